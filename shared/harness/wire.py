"""The agent channel's framing: length-prefixed msgpack messages over a stream socket or pipe.

Every message is `<u32 little-endian length><msgpack array>`, its first element a kind. The
host reads what the agent sends with a hard size cap, so an agent cannot make the trusted side
buffer without bound; an oversized, truncated or malformed message is a `ProtocolError`, which
ends the agent's run (docs/trust-boundary.md).

Host -> agent: `hello`, `bars`, `end`.  Agent -> host: (`auth`), `ready`, `step`, `error`, `done`.
"""

from __future__ import annotations

import os
import socket
import struct
from typing import Any

import msgpack

HEADER = struct.Struct("<I")
MAX_AGENT_MESSAGE = 1 << 20  # one decision's orders, reads and note: far below this
MAX_HOST_MESSAGE = 64 << 20  # a hello or a frame of bars from the trusted side

HELLO, BARS, END = "hello", "bars", "end"
READY, STEP, ERROR, DONE = "ready", "step", "error", "done"
AUTH = "auth"  # over TCP only (GKE): the agent pod's first message, with the session's channel token
BUNDLE = "bundle"  # over TCP only: the host's answer to a good `auth`, the agent's bundle (zip)


class ProtocolError(Exception):
    """The peer broke the channel's rules (size, framing, shape) or went away mid-message."""


def pack(message: list[Any]) -> bytes:
    """Encode one message with its length prefix."""
    body = msgpack.packb(message, use_bin_type=True)
    return HEADER.pack(len(body)) + body


def unpack(body: bytes) -> list[Any]:
    """Decode one message body; ProtocolError when it is not a msgpack array with a kind."""
    try:
        message = msgpack.unpackb(body, raw=False, strict_map_key=True, use_list=True)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise ProtocolError(f"undecodable message: {exc}") from None
    if not isinstance(message, list) or not message or not isinstance(message[0], str):
        raise ProtocolError("a message must be an array starting with its kind")
    return message


class Endpoint:
    """One side of the channel over a connected file descriptor (socket or pipe pair)."""

    def __init__(self, read_fd: int, write_fd: int | None = None, *, max_message: int) -> None:
        self.read_fd = read_fd
        self.write_fd = read_fd if write_fd is None else write_fd
        self.max_message = max_message
        self._buffer = bytearray()

    @classmethod
    def from_socket(cls, sock: socket.socket, *, max_message: int) -> Endpoint:
        """Wrap a connected socket (it stays owned by the caller)."""
        return cls(sock.fileno(), max_message=max_message)

    def send(self, message: list[Any]) -> None:
        """Send one message."""
        self.send_raw(pack(message))

    def send_raw(self, data: bytes | memoryview) -> None:
        """Send bytes that already carry their length prefix."""
        view = memoryview(data)
        while view:
            written = os.write(self.write_fd, view)
            view = view[written:]

    def receive_raw(self) -> bytes | None:
        """Return the next message body (without its prefix), None at a clean end of stream."""
        header = self._read_exactly(HEADER.size, allow_eof=True)
        if header is None:
            return None
        (size,) = HEADER.unpack(header)
        if size > self.max_message:
            raise ProtocolError(f"message of {size} bytes is over the {self.max_message}-byte limit")
        body = self._read_exactly(size, allow_eof=False)
        assert body is not None
        return body

    def receive(self) -> list[Any] | None:
        """Return the next decoded message, None at a clean end of stream."""
        body = self.receive_raw()
        return None if body is None else unpack(body)

    def has_buffered(self) -> bool:
        """Whether bytes already read from the descriptor wait in the buffer."""
        return bool(self._buffer)

    def _read_exactly(self, size: int, *, allow_eof: bool) -> bytes | None:
        buffer = self._buffer
        while len(buffer) < size:
            chunk = os.read(self.read_fd, max(65536, size - len(buffer)))
            if not chunk:
                if allow_eof and not buffer:
                    return None
                raise ProtocolError("the channel closed in the middle of a message")
            buffer += chunk
        data = bytes(buffer[:size])
        del buffer[:size]
        return data
