"""One Alpaca market-data WebSocket: connect, authenticate, subscribe, read, reconnect.

The client keeps one connection per endpoint (Alpaca allows one), reconnects with exponential
backoff and jitter, resubscribes, treats a connection that stays silent (no message, then no
pong to our ping) as dead, waits long on 406 (another connection holds the slot), backs off on
402 (bad keys, logged without the keys), and on 405 subscribes fewer symbols.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from shared.venues.alpaca.config import AlpacaCredentials
from shared.venues.alpaca.events import (
    ErrorEvent,
    Event,
    SubscriptionEvent,
    SuccessEvent,
    parse_message,
)
from shared.venues.alpaca.protocol import (
    CONTENT_TYPE_MSGPACK,
    ERR_AUTH_FAILED,
    ERR_CONNECTION_LIMIT,
    ERR_SYMBOL_LIMIT,
    MalformedFrameError,
    StreamKind,
    decode_frame,
    encode_frame,
)


class EventSink(Protocol):
    """Where a stream's data events go (the ingester's `IngestPipeline`), and its counters."""

    stats: Any

    def accept(self, kind: StreamKind, source: str, events: Iterable[Event]) -> int: ...

    @property
    def backlog(self) -> int: ...


log = logging.getLogger(__name__)
AUTH_TIMEOUT_S = 10.0


class StreamError(Exception):
    """A connection attempt ended; `delay_hint` (seconds) overrides the normal backoff."""

    def __init__(self, message: str, *, delay_hint: float | None = None) -> None:
        super().__init__(message)
        self.delay_hint = delay_hint


@dataclass(frozen=True, kw_only=True)
class StreamConfig:
    """Where to connect and how patiently."""

    name: str  # "stocks", "crypto", "news": the metrics label
    kind: StreamKind
    url: str
    channels: tuple[str, ...] = ("bars",)
    source: str = "alpaca"
    silence_s: float = 30.0
    pong_timeout_s: float = 5.0
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 60.0
    connection_limit_wait_s: float = 60.0  # after 406: the other connection may take a while to go
    auth_failure_wait_s: float = 300.0  # after 402: keys will not fix themselves quickly
    max_backlog: int = 200_000


class AlpacaStreamClient:
    """Hold one endpoint's stream and feed its data events into the ingest pipeline."""

    def __init__(
        self,
        config: StreamConfig,
        credentials: AlpacaCredentials,
        pipeline: EventSink,
        symbols: Callable[[], Sequence[str]],
        *,
        on_data: Callable[[], None] | None = None,
    ) -> None:
        self.config, self.credentials, self.pipeline = config, credentials, pipeline
        self.symbols = symbols
        self.on_data = on_data or (lambda: None)
        self.stats = pipeline.stats
        self.connected = False
        self.subscribed: dict[str, tuple[str, ...]] = {}
        self._limit: int | None = None  # symbol cap learnt from a 405
        self._ws: ClientConnection | None = None
        self._attempt = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Connect and read until `stop` is set, reconnecting after every failure."""
        name = self.config.name
        while not stop.is_set():
            delay_hint: float | None = None
            try:
                await self._session(stop)
            except StreamError as exc:
                delay_hint = exc.delay_hint
                log.warning("%s stream: %s", name, exc)
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError) as exc:
                if not stop.is_set():  # closing on shutdown is not a loss
                    log.warning("%s stream: connection lost: %s: %s", name, type(exc).__name__, exc)
            except InvalidURI as exc:
                delay_hint = self.config.auth_failure_wait_s
                log.error("%s stream: bad URL %s: %s", name, self.config.url, exc)
            finally:
                self.connected = False
                self._ws = None
            if stop.is_set():
                break
            self.stats.reconnects[name] += 1
            delay = delay_hint if delay_hint is not None else self._backoff()
            log.info("%s stream: reconnecting in %.2fs", name, delay)
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except TimeoutError:
                pass

    def _backoff(self) -> float:
        self._attempt += 1
        ceiling = min(self.config.backoff_cap_s, self.config.backoff_base_s * 2 ** (self._attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)  # jitter spreads reconnects of many clients

    async def close(self) -> None:
        """Close the live connection, if any."""
        if self._ws is not None:
            await self._ws.close()

    async def _session(self, stop: asyncio.Event) -> None:
        headers = {"Content-Type": CONTENT_TYPE_MSGPACK}
        async with connect(
            self.config.url, additional_headers=headers, ping_interval=None, open_timeout=AUTH_TIMEOUT_S,
            max_size=2**24, close_timeout=2,
        ) as ws:
            self._ws = ws
            await self._expect_success(ws, "connected")
            await ws.send(encode_frame({"action": "auth", "key": self.credentials.key_id,
                                        "secret": self.credentials.secret_key}))
            await self._expect_success(ws, "authenticated")
            self.connected = True
            log.info("%s stream: authenticated at %s", self.config.name, self.config.url)
            self.subscribed = {}
            await self.resubscribe()
            await self._read(ws, stop)

    async def _expect_success(self, ws: ClientConnection, expected: str) -> None:
        # Within Alpaca's 10 s auth window; anything else but the expected success ends the attempt.
        frame = await asyncio.wait_for(ws.recv(), AUTH_TIMEOUT_S)
        for message in self._parse(frame):
            if isinstance(message, SuccessEvent) and message.msg == expected:
                return
            if isinstance(message, ErrorEvent):
                self._raise_for(message)
        raise StreamError(f"expected '{expected}', got {frame!r:.200}")

    def _raise_for(self, error: ErrorEvent) -> None:
        self.stats.control_errors[str(error.code)] += 1
        if error.code == ERR_CONNECTION_LIMIT:
            raise StreamError(
                f"406 {error.msg}: another connection holds this endpoint; waiting "
                f"{self.config.connection_limit_wait_s:.0f}s", delay_hint=self.config.connection_limit_wait_s,
            )
        if error.code == ERR_AUTH_FAILED:
            raise StreamError(
                f"402 {error.msg}: Alpaca rejected the API keys (check APCA_API_KEY_ID/APCA_API_SECRET_KEY); "
                f"retrying in {self.config.auth_failure_wait_s:.0f}s", delay_hint=self.config.auth_failure_wait_s,
            )
        raise StreamError(f"error {error.code}: {error.msg}")

    def desired(self) -> tuple[str, ...]:
        """The symbols this stream should be subscribed to now (capped after a 405)."""
        symbols = tuple(dict.fromkeys(self.symbols()))
        return symbols if self._limit is None else symbols[: self._limit]

    async def resubscribe(self) -> None:
        """Bring the live subscription in line with `desired()` (no-op when disconnected)."""
        ws = self._ws
        if ws is None or not self.connected:
            return
        want = self.desired()
        channels = ("news",) if self.config.kind == "news" else self.config.channels
        have = {c: set(self.subscribed.get(c, ())) for c in channels}
        add = {c: [s for s in want if s not in have[c]] for c in channels}
        drop = {c: sorted(have[c] - set(want)) for c in channels}
        if any(drop.values()):
            await ws.send(encode_frame({"action": "unsubscribe", **{c: v for c, v in drop.items() if v}}))
        if any(add.values()):
            await ws.send(encode_frame({"action": "subscribe", **{c: v for c, v in add.items() if v}}))
        self.subscribed = {c: want for c in channels}  # the server's `subscription` reply overrides this

    async def _read(self, ws: ClientConnection, stop: asyncio.Event) -> None:
        name = self.config.name
        while not stop.is_set():
            try:
                frame = await asyncio.wait_for(ws.recv(), self.config.silence_s)
            except TimeoutError:
                await self._check_alive(ws)
                continue
            self.stats.touch(name)
            data: list[Event] = []
            for event in self._parse(frame):
                if isinstance(event, ErrorEvent):
                    await self._on_error(event)
                elif isinstance(event, SubscriptionEvent):
                    self.subscribed = dict(event.channels)
                elif not isinstance(event, SuccessEvent):
                    data.append(event)
            if data:
                self.pipeline.accept(self.config.kind, self.config.source, data)
                self._attempt = 0  # a connection that delivered data resets the backoff
                self.on_data()
                while self.pipeline.backlog > self.config.max_backlog and not stop.is_set():
                    await asyncio.sleep(0.01)  # backpressure: let the publisher catch up, drop nothing

    async def _check_alive(self, ws: ClientConnection) -> None:
        try:
            pong = await ws.ping()
            await asyncio.wait_for(pong, self.config.pong_timeout_s)
        except (TimeoutError, ConnectionClosed) as exc:
            self.stats.silent_disconnects += 1
            raise StreamError(
                f"silent for {self.config.silence_s:.0f}s and no pong within {self.config.pong_timeout_s:.0f}s"
            ) from exc

    async def _on_error(self, error: ErrorEvent) -> None:
        if error.code == ERR_SYMBOL_LIMIT:
            self.stats.control_errors[str(error.code)] += 1
            current = len(self.desired())
            self._limit = max(1, current // 2)
            self.subscribed = {}  # the server rejected the whole request; send the smaller one afresh
            log.warning("%s stream: 405 %s; subscribing to %d of %d symbols", self.config.name, error.msg,
                        self._limit, len(tuple(self.symbols())))
            await self.resubscribe()
            return
        self._raise_for(error)

    def _parse(self, frame: bytes | str) -> list[Event]:
        """Decode a frame; a malformed frame (or message) is counted, logged and skipped."""
        try:
            messages = decode_frame(frame)
        except MalformedFrameError as exc:
            self._malformed(frame, exc)
            return []
        events: list[Event] = []
        bad: MalformedFrameError | None = None
        for message in messages:
            try:
                event = parse_message(message)
            except MalformedFrameError as exc:
                bad = exc
                continue
            if event is not None:
                events.append(event)
        if bad is not None:
            self._malformed(frame, bad)
        return events

    def _malformed(self, frame: bytes | str, exc: Exception) -> None:
        self.stats.malformed_frames[self.config.name] += 1
        log.warning("%s stream: malformed frame skipped (%s): %r", self.config.name, exc, frame[:200])
