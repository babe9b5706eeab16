"""A tiny HTTP endpoint serving `{kid: certificate PEM}` like Google's x509 metadata URL.

The verifiers fetch signing certificates over HTTP exactly as they do from
`https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com`,
honouring `Cache-Control: max-age`, so the local path exercises the real fetch-and-cache code.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

log = logging.getLogger(__name__)

CERTS_PATH = "/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com"


class CertificateServer:
    """Serve certificates on 127.0.0.1 (free port), starting on first use of `url`."""

    def __init__(self, certificates: Mapping[str, str], *, max_age_s: int = 3600) -> None:
        self._body = json.dumps(dict(certificates)).encode("utf-8")
        self._max_age_s = max_age_s
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The certificate URL, starting the server if it is not running yet."""
        server = self.start()
        host, port = server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host  # an AF_INET address is text
        return f"http://{name}:{port}{CERTS_PATH}"

    def start(self) -> ThreadingHTTPServer:
        """Start serving (idempotent) and return the running server."""
        with self._lock:
            if self._server is None:
                self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
                self._server.daemon_threads = True
                self._thread = threading.Thread(
                    target=self._server.serve_forever,
                    kwargs={"poll_interval": 0.05},
                    name="identity-cert-server",
                    daemon=True,
                )
                self._thread.start()
                log.debug("certificate server on port %s", self._server.server_address[1])
            return self._server

    def close(self) -> None:
        """Stop serving and release the port (safe to call twice)."""
        with self._lock:
            server, thread, self._server, self._thread = self._server, self._thread, None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        body, max_age = self._body, self._max_age_s

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != CERTS_PATH:
                    self.send_error(404, "unknown path")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", f"public, max-age={max_age}, must-revalidate")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                log.debug("cert server: " + format, *args)

        return Handler
