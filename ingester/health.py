"""A tiny HTTP server for probes and Prometheus: /healthz, /readyz, /metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class HealthServer:
    """Answer GET /healthz (process alive), /readyz (`ready()`), /metrics (`metrics()` text)."""

    def __init__(self, ready: Callable[[], bool], metrics: Callable[[], str], *, host: str, port: int) -> None:
        self.ready, self.metrics, self.host, self.port = ready, metrics, host, port
        self._server: asyncio.Server | None = None

    async def start(self) -> HealthServer:
        """Listen; `port` holds the bound port afterwards (0 picks a free one)."""
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            method, path, *_ = request.split(b" ", 2)
            status, body, kind = self._route(method.decode(), path.decode().split("?")[0])
            payload = body.encode()
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(payload)}\r\n"
                f"Connection: close\r\n\r\n".encode() + payload
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError, ConnectionError):
            pass  # a probe that hung up or sent garbage gets nothing
        finally:
            writer.close()

    def _route(self, method: str, path: str) -> tuple[str, str, str]:
        if method != "GET":
            return "405 Method Not Allowed", "method not allowed\n", "text/plain"
        if path == "/healthz":
            return "200 OK", "ok\n", "text/plain"
        if path == "/readyz":
            ok = self.ready()
            if ok:
                return "200 OK", "ready\n", "text/plain"
            return "503 Service Unavailable", "not ready\n", "text/plain"
        if path == "/metrics":
            return "200 OK", self.metrics(), "text/plain; version=0.0.4"
        return "404 Not Found", "not found\n", "text/plain"
