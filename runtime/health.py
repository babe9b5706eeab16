"""/healthz (the process answers) and /readyz (the agent is running and heartbeating)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HealthServer:
    """A tiny HTTP server for probes on `port` (0: any free port, see `.port`)."""

    def __init__(self, ready: Callable[[], bool], *, port: int = 0, host: str = "127.0.0.1") -> None:
        probe = ready

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/healthz":
                    self._answer(200, b'{"status":"ok"}')
                elif self.path == "/readyz":
                    ok = probe()
                    self._answer(200 if ok else 503, b'{"ready":true}' if ok else b'{"ready":false}')
                else:
                    self._answer(404, b'{"error":"not found"}')

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass  # probes every few seconds would drown the runtime's log

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="health", daemon=True)

    def start(self) -> HealthServer:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
