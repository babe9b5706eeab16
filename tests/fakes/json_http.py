"""What the fakes of JSON HTTP APIs share: a quiet handler answering JSON, served on a free port in a thread."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JSON = "application/json"
GOOGLE_JSON = "application/json; charset=UTF-8"  # what Google's REST APIs send
GOOGLE_STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                       429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing (keeps test output quiet) and answers with `send_json`."""

    def log_message(self, *args: Any) -> None:
        pass

    def send_json(self, status: int, body: Any, content_type: str = JSON) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def serve(handler: type[BaseHTTPRequestHandler], *, poll_s: float = 0.5,
          name: str | None = None) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve `handler` on a free port of 127.0.0.1 from a daemon thread; the server and its thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(poll_s,), name=name, daemon=True)
    thread.start()
    return server, thread


def stop(server: ThreadingHTTPServer, thread: threading.Thread) -> None:
    """Stop serving, release the port and wait for the serving thread."""
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def google_error(status: int, message: str) -> dict[str, Any]:
    """The error body of Google's REST APIs (google.rpc.Status), which their clients turn into exceptions."""
    return {"error": {"code": status, "message": message, "status": GOOGLE_STATUS_NAMES.get(status, "UNKNOWN")}}
