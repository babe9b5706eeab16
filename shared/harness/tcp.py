"""Reach an agent that runs in a pod of its own (GKE paper trading) over one TCP connection.

The host listens on its channel port; the agent pod connects and its first message must be
`["auth", token]` with the session's channel token (compared in constant time). The host then
sends the agent's bundle (`["bundle", zip bytes]`: the agent pod reads no store) and serves the
session as over pipes. Any other first message, a wrong token, or silence ends that connection
and the host waits for the next one, until `accept_timeout_s`. docs/trust-boundary.md §5, §7.
"""

from __future__ import annotations

import hmac
import io
import logging
import socket
import time
import zipfile
from pathlib import Path

from shared.harness import wire
from shared.harness.fifos import RemoteAgent

log = logging.getLogger(__name__)
AUTH_TIMEOUT_S = 10.0
MAX_AUTH_BYTES = 1024


class TcpAgentLauncher:
    """An `AgentLauncher` whose agent (started by the orchestrator) connects to this host."""

    def __init__(self, port: int, token: str, *, host: str = "0.0.0.0", accept_timeout_s: float = 600.0) -> None:
        if not token:
            raise ValueError("a channel token is required")
        self.token = token.encode()
        self.accept_timeout_s = accept_timeout_s
        self._server = socket.create_server((host, port), reuse_port=False)
        self.port = self._server.getsockname()[1]

    @classmethod
    def from_token_file(cls, port: int, token_file: Path) -> TcpAgentLauncher:
        """The token as the pod gets it: a file from the session's Secret."""
        return cls(port, token_file.read_text().strip())

    def start(self, *, bundle_dir: Path, output_fd: int, cpu: int | None = None) -> tuple[RemoteAgent, int, int]:
        """Wait for the session's agent to connect and prove itself; send it its bundle."""
        deadline = time.monotonic() + self.accept_timeout_s
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the agent's pod never connected")
                self._server.settimeout(remaining)
                connection, peer = self._server.accept()
                if self._admit(connection):
                    endpoint = wire.Endpoint.from_socket(connection, max_message=wire.MAX_AGENT_MESSAGE)
                    endpoint.send([wire.BUNDLE, _zipped(bundle_dir)])
                    fd = connection.detach()
                    return RemoteAgent(), fd, fd
                log.warning("refused a channel connection from %s", peer[0])
                connection.close()
        finally:
            self._server.close()

    def _admit(self, connection: socket.socket) -> bool:
        """Read the first message with the socket's own timeout (never os.read on a timed socket)."""
        connection.settimeout(AUTH_TIMEOUT_S)
        data = b""
        try:
            while len(data) < wire.HEADER.size or len(data) < wire.HEADER.size + wire.HEADER.unpack_from(data)[0]:
                if len(data) > MAX_AUTH_BYTES:
                    return False
                chunk = connection.recv(MAX_AUTH_BYTES)
                if not chunk:
                    return False
                data += chunk
            (size,) = wire.HEADER.unpack_from(data)
            message = wire.unpack(data[wire.HEADER.size:wire.HEADER.size + size])
        except (OSError, wire.ProtocolError):
            return False
        if len(data) != wire.HEADER.size + size:
            return False  # the agent speaks only after the host's bundle and hello
        connection.setblocking(True)
        if message[0] != wire.AUTH or len(message) != 2 or not isinstance(message[1], str):
            return False
        return hmac.compare_digest(message[1].encode(), self.token)

def _zipped(folder: Path) -> bytes:
    """The bundle the host unpacked, zipped again for the agent's pod (which reads no store)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()
