"""Ingest market data: normalise -> de-duplicate -> batch publish -> archive (SPEC §8).

The ingester's stream readers hand parsed Alpaca events to `IngestPipeline.accept`; a flusher
calls `publish_pending` and `archive_pending`. Nothing accepted is dropped: a failed publish or
insert keeps its batch at the head of the queue and the next call retries it. De-duplication
keys on the content hash, so a bar a server re-sends after a reconnect is published once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.errors import FarmError, TransientError
from shared.market.bars import Bar, hash_bar_values
from shared.market.messages import (
    BarMessage,
    MarketMessage,
    NewsMessage,
    TickMessage,
    content_hash,
    encode,
)
from shared.ports.messages import MessageBus
from shared.ports.warehouse import Warehouse
from shared.schemas.topics import CRYPTO_DATA, MARKET_DATA, NEWS_DATA
from shared.services.ingest_batches import BatchQueue
from shared.services.ingest_stats import IngestStats
from shared.venues.alpaca.events import BarEvent, Event, NewsEvent, QuoteEvent, TradeEvent
from shared.venues.alpaca.protocol import StreamKind

log = logging.getLogger(__name__)

TOPIC_OF: dict[str, str] = {"stocks": MARKET_DATA, "crypto": CRYPTO_DATA, "news": NEWS_DATA}
_BARS = {"b": ("bar", "1Min"), "u": ("updated_bar", "1Min"), "d": ("daily_bar", "1Day")}
BARS_TABLE = "market_data.bars"
NEWS_TABLE = "market_data.news"


def normalise(event: Event, source: str) -> MarketMessage | None:
    """Return the platform message for a data event (None for control events)."""
    if isinstance(event, BarEvent):
        kind, timeframe = _BARS[event.kind]
        digest = hash_bar_values(
            event.symbol, timeframe, event.timestamp, event.open, event.high, event.low, event.close,
            event.volume, event.trade_count, event.vwap,
        )
        bar = Bar(
            event.symbol, timeframe, event.timestamp, event.open, event.high, event.low, event.close,
            event.volume, event.trade_count, event.vwap, source,
        )
        return BarMessage(kind, bar, digest)
    if isinstance(event, TradeEvent):
        values = {"price": event.price, "size": event.size, "trade_id": event.trade_id, "exchange": event.exchange}
        digest = content_hash("trade", event.symbol, event.timestamp.isoformat(), event.price, event.size,
                              event.trade_id, event.exchange)
        return TickMessage("trade", event.symbol, event.timestamp, values, source, digest)
    if isinstance(event, QuoteEvent):
        values = {"bid_price": event.bid_price, "bid_size": event.bid_size,
                  "ask_price": event.ask_price, "ask_size": event.ask_size}
        digest = content_hash("quote", event.symbol, event.timestamp.isoformat(), *values.values())
        return TickMessage("quote", event.symbol, event.timestamp, values, source, digest)
    if isinstance(event, NewsEvent):
        updated = None if event.updated_at is None else event.updated_at.isoformat()
        digest = content_hash("news", event.id, event.created_at.isoformat(), updated, event.headline,
                              event.summary, ",".join(event.symbols))
        return NewsMessage(
            event.id, event.headline, event.created_at, event.updated_at, event.summary, event.author,
            event.source or source, event.url, event.symbols, digest,
        )
    return None


class Deduplicator:
    """Remember the last `capacity` content hashes; `first_time` is False for a repeat."""

    def __init__(self, capacity: int = 200_000) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_time(self, data_hash: str) -> bool:
        """Record `data_hash`; return whether it was new."""
        seen = self._seen
        if data_hash in seen:
            return False
        seen[data_hash] = None
        if len(seen) > self.capacity:
            seen.popitem(last=False)  # forget the oldest: re-sends only reach back minutes
        return True

    def keep_first(self, messages: list[MarketMessage]) -> list[MarketMessage]:
        """Record the hashes of `messages`; return those seen for the first time, in order."""
        seen, capacity, fresh = self._seen, self.capacity, []
        for message in messages:
            data_hash = message.data_hash
            if data_hash in seen:
                continue
            seen[data_hash] = None
            if len(seen) > capacity:
                seen.popitem(last=False)
            fresh.append(message)
        return fresh

    def forget(self, data_hash: str) -> None:
        """Forget one hash (used when a message could not be queued)."""
        self._seen.pop(data_hash, None)


@dataclass(frozen=True, kw_only=True)
class PipelineConfig:
    """Batching knobs: publish and archive sizes and how long a message may wait."""

    publish_batch: int = 1000
    publish_max_delay_s: float = 0.05
    archive_batch: int = 5000
    archive_max_delay_s: float = 2.0
    max_backlog: int = 200_000  # above this the readers pause (backpressure, not dropping)
    dedup_capacity: int = 200_000
    archive: bool = True


class IngestPipeline:
    """Normalise, de-duplicate, queue, publish and archive market messages."""

    def __init__(
        self,
        bus: MessageBus,
        warehouse: Warehouse | None,
        *,
        config: PipelineConfig | None = None,
        stats: IngestStats | None = None,
        clock=time.monotonic,
    ) -> None:
        self.bus, self.warehouse = bus, warehouse
        self.config = config or PipelineConfig()
        self.stats = stats or IngestStats()
        self.clock = clock
        self._dedup = Deduplicator(self.config.dedup_capacity)
        self._dedup_lock = threading.Lock()
        self._publish = BatchQueue()
        self._archive = BatchQueue()
        self._publish_lock = threading.Lock()
        self._archive_lock = threading.Lock()

    def accept(self, kind: StreamKind, source: str, events: Iterable[Event]) -> int:
        """Queue the data events of one frame for publishing and archiving; return how many were new."""
        topic, now, stats = TOPIC_OF[kind], self.clock(), self.stats
        with self._dedup_lock:
            messages = [m for event in events if (m := normalise(event, source)) is not None]
            stats.messages_in.update(m.type for m in messages)  # one C-level pass, not a call each
            fresh = self._dedup.keep_first(messages)
            stats.duplicates += len(messages) - len(fresh)
        if not fresh:
            return 0
        self._publish.put(topic, [encode(m) for m in fresh], now)
        if self.config.archive and self.warehouse is not None:
            ingested = {"ingested_at": datetime.now(UTC)}
            bars = [m.row() | ingested for m in fresh if isinstance(m, BarMessage)]
            news = [m.row() | ingested for m in fresh if isinstance(m, NewsMessage)]
            self._archive.put(BARS_TABLE, bars, now)
            self._archive.put(NEWS_TABLE, news, now)
        return len(fresh)

    @property
    def backlog(self) -> int:
        """Messages accepted but not yet published."""
        return len(self._publish)

    def publish_due(self) -> bool:
        """Whether a publish batch is full or has waited its maximum delay."""
        return self._publish.due(self.config.publish_batch, self.config.publish_max_delay_s, self.clock())

    def archive_due(self) -> bool:
        """Whether an archive batch is full or has waited its maximum delay."""
        return self._archive.due(self.config.archive_batch, self.config.archive_max_delay_s, self.clock())

    def publish_pending(self) -> int:
        """Publish every queued message in batches; return how many. TransientError keeps the rest queued."""
        published = 0
        with self._publish_lock:  # one publisher at a time keeps per-topic order
            for topic in self._publish.topics():
                while batch := self._publish.peek(topic, self.config.publish_batch):
                    messages, received = batch
                    started = self.clock()
                    try:
                        self.bus.publish(topic, messages)
                    except Exception as exc:
                        self.stats.publish_failures += 1
                        log.warning("publish of %d messages to %s failed (kept for retry): %s",
                                    len(messages), topic, exc)
                        raise _transient(exc, "publish") from exc
                    done = self.clock()
                    self._publish.drop(topic, len(messages))
                    self.stats.record_publish(topic, messages, received, done, done - started)
                    published += len(messages)
        return published

    def archive_pending(self) -> int:
        """Insert queued rows into the warehouse in batches; return how many. TransientError keeps the rest."""
        if self.warehouse is None:
            return 0
        written = 0
        with self._archive_lock:
            for table in self._archive.topics():
                while batch := self._archive.peek(table, self.config.archive_batch):
                    rows, _ = batch
                    try:
                        self.warehouse.insert_rows(table, rows)
                    except Exception as exc:
                        self.stats.archive_failures += 1
                        log.warning("archive of %d rows to %s failed (kept for retry): %s", len(rows), table, exc)
                        raise _transient(exc, "archive") from exc
                    self._archive.drop(table, len(rows))
                    self.stats.archived += len(rows)
                    written += len(rows)
        return written


def _transient(exc: Exception, what: str) -> FarmError:
    if isinstance(exc, TransientError):
        return exc
    return TransientError(f"{what} failed: {type(exc).__name__}: {exc}")
