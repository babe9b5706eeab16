"""A hostile Alpaca market-data server: a real WebSocket server that misbehaves on purpose.

Each connection follows the next `Plan` (the last one repeats): it may answer the auth with an
error (406 connection limit, 402), send bars one per frame, send malformed frames, and then end
by dropping the TCP connection in the middle of a frame, going silent (no data and no pongs), or
closing. Only the network edge is fake here; the client under test runs unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from shared.venues.alpaca.protocol import decode_frame, encode_frame, error_message

End = Literal["drop_mid_frame", "silent", "close", "stay"]
MALFORMED_FRAMES: tuple[bytes | str, ...] = (
    b"\xc1\xff\x00garbage",  # 0xc1 is never valid msgpack
    "{not json",  # a text frame that is not JSON
    encode_frame([{"T": "b", "S": "AAPL", "o": "high"}]),  # a bar missing fields, with a bad type
)


def make_bars(symbol: str, count: int, *, start: datetime | None = None) -> list[dict[str, Any]]:
    """Return `count` consecutive 1-minute Alpaca bar messages for `symbol`."""
    start = start or datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
    return [
        {"T": "b", "S": symbol, "o": 100.0 + i, "h": 101.0 + i, "l": 99.0 + i, "c": 100.5 + i,
         "v": 1000.0 + i, "t": start + timedelta(minutes=i), "n": 10 + i, "vw": 100.2 + i}
        for i in range(count)
    ]


@dataclass
class Plan:
    """What one connection does."""

    auth_error: int | None = None
    bars: Sequence[dict[str, Any]] = ()
    malformed: Sequence[bytes | str] = ()
    end: End = "stay"


@dataclass
class HostileAlpaca:
    """Serve `plans`, one per connection, on 127.0.0.1; the stream path is not checked."""

    plans: Sequence[Plan]
    connections: int = 0
    connected_at: list[float] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    _server: Server | None = None

    async def start(self) -> HostileAlpaca:
        # No server pings: a silent connection must be found by the client's own checks.
        self._server = await serve(self._handle, "127.0.0.1", 0, ping_interval=None)
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"ws://127.0.0.1:{next(iter(self._server.sockets)).getsockname()[1]}/v2/iex"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, ws: ServerConnection) -> None:
        plan = self.plans[min(self.connections, len(self.plans) - 1)]
        self.connections += 1
        self.connected_at.append(asyncio.get_running_loop().time())
        try:
            await ws.send(encode_frame([{"T": "success", "msg": "connected"}]))
            self.actions.append(decode_frame(await ws.recv())[0])
            if plan.auth_error is not None:
                await ws.send(encode_frame([error_message(plan.auth_error)]))
                await ws.close()
                return
            await ws.send(encode_frame([{"T": "success", "msg": "authenticated"}]))
            subscribe = decode_frame(await ws.recv())[0]
            self.actions.append(subscribe)
            await ws.send(encode_frame([{"T": "subscription", "bars": subscribe.get("bars", [])}]))
            for bar in plan.bars:
                await ws.send(encode_frame([bar]))
            for frame in plan.malformed:
                await ws.send(frame)
            await self._end(ws, plan.end)
        except ConnectionClosed:
            pass

    async def _end(self, ws: ServerConnection, end: End) -> None:
        if end == "drop_mid_frame":
            # A binary frame header promising 100 bytes, then 10 of them, then a dead socket.
            ws.transport.write(b"\x82\x64" + b"\x93" + b"\x00" * 9)
            ws.transport.abort()
        elif end == "silent":
            ws.transport.pause_reading()  # no data, and pings go unanswered
            await ws.wait_closed()
        elif end == "close":
            await ws.close()
        else:
            await ws.wait_closed()
