"""The replay server: a real WebSocket server speaking Alpaca's market-data protocol.

    ws://HOST:PORT/v2/iex, /v2/sip      stock bars
    ws://HOST:PORT/v1beta3/crypto/us    crypto bars
    ws://HOST:PORT/v1beta1/news         news

Like Alpaca it greets with `connected`, wants `auth` within 10 s (402 on wrong keys when keys
are configured), allows one authenticated connection per endpoint and key (406), caps symbols
(405), and answers `subscribe`/`unsubscribe` with the full subscription. Frames are msgpack when
the client sends `Content-Type: application/msgpack`, JSON text otherwise. Each connection
replays its timeline from the start; `speed` market minutes pass per wall-clock minute (0: as
fast as the client reads). Closed market hours are skipped (`skip_closed`, the default): after a
gap longer than CLOSED_GAP (the night, a weekend) the next bar follows one bar interval later,
not 17.5 replayed hours later, so a session started at any hour is fed at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from shared.venues.alpaca.protocol import (
    CHANNELS,
    CONTENT_TYPE_MSGPACK,
    CRYPTO_PATH,
    ERR_AUTH_FAILED,
    ERR_AUTH_REQUIRED,
    ERR_AUTH_TIMEOUT,
    ERR_CONNECTION_LIMIT,
    ERR_INVALID_SYNTAX,
    ERR_SYMBOL_LIMIT,
    NEWS_PATH,
    MalformedFrameError,
    decode_frame,
    encode_frame,
    error_message,
)
from shared.venues.simulated.timelines import Timeline

log = logging.getLogger(__name__)
PATHS: frozenset[str] = frozenset({"/v2/iex", "/v2/sip", "/v2/test", CRYPTO_PATH, NEWS_PATH})
AUTH_TIMEOUT_S = 10.0
CLOSED_GAP = timedelta(minutes=5)  # a longer silence between bars is the market being closed
BAR_INTERVAL = timedelta(minutes=1)


@dataclass
class _Session:
    connection: ServerConnection
    binary: bool
    key: str | None = None
    channels: dict[str, list[str]] = field(default_factory=lambda: {c: [] for c in CHANNELS})
    streamer: asyncio.Task | None = None
    position: datetime | None = None  # last market time sent, so a new subscription continues from it

    async def send(self, messages: list[dict[str, Any]]) -> None:
        await self.connection.send(encode_frame(messages, binary=self.binary))


class ReplayServer:
    """Serve `timeline` over Alpaca's protocol on `host:port` (port 0 picks a free one)."""

    def __init__(
        self,
        timeline: Timeline,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float = 60.0,
        key: str | None = None,
        secret: str | None = None,
        max_symbols: int | None = None,
        auth_timeout_s: float = AUTH_TIMEOUT_S,
        offered: tuple[str, ...] | None = None,
        skip_closed: bool = True,
    ) -> None:
        if speed < 0:
            raise ValueError(f"speed must be >= 0, got {speed}")
        self.timeline, self.host, self.port, self.speed = timeline, host, port, speed
        self.key, self.secret, self.max_symbols = key, secret, max_symbols
        self.auth_timeout_s = auth_timeout_s
        self.offered = None if offered is None else frozenset(offered)  # None: any symbol
        self.skip_closed = skip_closed
        self.skipped = timedelta()  # market time not waited out (closed hours)
        self._server: Server | None = None
        self._active: dict[tuple[str, str], ServerConnection] = {}
        self.sent_frames = 0

    @property
    def url(self) -> str:
        """Base URL (`ws://host:port`); append a stream path."""
        return f"ws://{self.host}:{self.port}"

    async def start(self) -> ReplayServer:
        """Start listening; the chosen port is in `port` afterwards."""
        self._server = await serve(
            self._handle, self.host, self.port, process_request=self._check_path, ping_interval=20, ping_timeout=20
        )
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        log.info("replay server listening on %s (speed %sx)", self.url, self.speed)
        return self

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def _check_path(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path.split("?")[0] not in PATHS:
            return connection.respond(HTTPStatus.NOT_FOUND, f"unknown stream {request.path}\n")
        return None

    async def _handle(self, connection: ServerConnection) -> None:
        request = connection.request
        assert request is not None  # set by the handshake before any handler runs
        path = request.path.split("?")[0]
        headers: Headers = request.headers
        session = _Session(connection, binary=headers.get("Content-Type", "") == CONTENT_TYPE_MSGPACK)
        try:
            await session.send([{"T": "success", "msg": "connected"}])
            if not await self._authenticate(session, path):
                return
            async for frame in connection:
                await self._on_action(session, path, frame)
        except ConnectionClosed:
            pass
        finally:
            if session.streamer is not None:
                session.streamer.cancel()
            if session.key is not None and self._active.get((path, session.key)) is connection:
                del self._active[(path, session.key)]

    async def _authenticate(self, session: _Session, path: str) -> bool:
        try:
            frame = await asyncio.wait_for(session.connection.recv(), self.auth_timeout_s)
            action = decode_frame(frame)[0]
        except TimeoutError:
            await session.send([error_message(ERR_AUTH_TIMEOUT)])
            await session.connection.close()
            return False
        except MalformedFrameError:
            await session.send([error_message(ERR_INVALID_SYNTAX)])
            await session.connection.close()
            return False
        if action.get("action") != "auth":
            await session.send([error_message(ERR_AUTH_REQUIRED)])
            await session.connection.close()
            return False
        key, secret = str(action.get("key") or ""), str(action.get("secret") or "")
        if not key or (self.key is not None and (key, secret) != (self.key, self.secret)):
            await session.send([error_message(ERR_AUTH_FAILED)])
            await session.connection.close()
            return False
        if (path, key) in self._active:
            await session.send([error_message(ERR_CONNECTION_LIMIT)])
            await session.connection.close()
            return False
        self._active[(path, key)] = session.connection
        session.key = key
        await session.send([{"T": "success", "msg": "authenticated"}])
        return True

    async def _on_action(self, session: _Session, path: str, frame: bytes | str) -> None:
        try:
            action = decode_frame(frame)[0]
        except (MalformedFrameError, IndexError):
            await session.send([error_message(ERR_INVALID_SYNTAX)])
            return
        verb = action.get("action")
        if verb not in ("subscribe", "unsubscribe"):
            await session.send([error_message(ERR_INVALID_SYNTAX)])
            return
        wanted = {c: [str(s) for s in action.get(c) or ()] for c in CHANNELS}
        updated = {c: list(v) for c, v in session.channels.items()}
        for channel, symbols in wanted.items():
            if verb == "subscribe":
                updated[channel] += [s for s in symbols if s not in updated[channel]]
            else:
                updated[channel] = [s for s in updated[channel] if s not in symbols]
        if self.max_symbols is not None and len({s for v in updated.values() for s in v}) > self.max_symbols:
            await session.send([error_message(ERR_SYMBOL_LIMIT)])
            return
        session.channels = updated
        await session.send([{"T": "subscription", **session.channels}])
        self._restart_streamer(session, path)

    def _restart_streamer(self, session: _Session, path: str) -> None:
        if session.streamer is not None:
            session.streamer.cancel()
        symbols = session.channels["news"] if path == NEWS_PATH else session.channels["bars"]
        if self.offered is not None:
            symbols = [s for s in symbols if s in self.offered]
        if not symbols:
            return
        steps = (
            self.timeline.news(symbols, after=session.position)
            if path == NEWS_PATH
            else self.timeline.steps(symbols, after=session.position)
        )
        session.streamer = asyncio.get_running_loop().create_task(self._stream(session, steps))

    async def _stream(self, session: _Session, steps: Iterator[tuple[datetime, list[dict[str, Any]]]]) -> None:
        previous: datetime | None = None
        try:
            for stamp, messages in steps:
                if previous is not None and self.speed > 0:
                    await asyncio.sleep(self._wait(stamp - previous).total_seconds() / self.speed)
                previous = stamp
                if messages:
                    await session.send(messages)
                    self.sent_frames += 1
                session.position = stamp
                if self.speed == 0:
                    await asyncio.sleep(0)  # let other connections and actions run
        except ConnectionClosed:
            pass

    def _wait(self, gap: timedelta) -> timedelta:
        """The market time to wait before the next bar: one bar interval across closed hours."""
        if self.skip_closed and gap > CLOSED_GAP:
            self.skipped += gap - BAR_INTERVAL
            return BAR_INTERVAL
        return gap


class ReplayServerThread:
    """Run a `ReplayServer` on its own event loop in a daemon thread (for `farm up` and tests)."""

    def __init__(self, server: ReplayServer) -> None:
        self.server = server
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="replay-server", daemon=True)

    def start(self) -> ReplayServerThread:
        """Start the thread and wait until the server listens."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        """Stop the server and the loop, and join the thread."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    @property
    def url(self) -> str:
        return self.server.url
