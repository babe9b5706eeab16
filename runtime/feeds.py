"""Live market data for backtrader from the bus: one subscription per topic, routed by symbol.

`BusRouter` owns ONE subscription per topic for the whole agent (never one per symbol: the
quota of the system this replaces ran out that way). A small thread pulls, decodes, and hands
each bar to the `BusDataFeed` of its symbol; messages for symbols the agent does not trade are
acknowledged and dropped. The subscription filter narrows delivery where the bus applies it;
routing in code stays correct where it does not (the Pub/Sub emulator ignores filters).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC
from typing import Any

import backtrader as bt

from shared.domain.timeframe import Timeframe
from shared.errors import FarmError, InvalidInputError
from shared.market.backtrader_timeframes import BACKTRADER_TIMEFRAMES
from shared.market.messages import BarMessage, decode
from shared.messaging.filters import MAX_FILTER_LENGTH
from shared.ports.messages import MessageBus

log = logging.getLogger(__name__)


class BusDataFeed(bt.feed.DataBase):
    """One symbol's live bars; `vwap` and `trade_count` are extra lines."""

    lines: Any = ("vwap", "trade_count")  # backtrader's metaclass turns these names into line objects
    params = (("symbol", ""), ("bar_timeframe", Timeframe.MINUTE.value), ("qcheck", 0.05))

    def __init__(self, **_params: Any) -> None:  # the metaclass has already taken the params out
        super().__init__()
        self.fmel_hashes: dict[float, str] = {}  # bar time -> data_hash, so FMEL cites the bus's hash
        self.fmel_timeframe = self.p.bar_timeframe
        self.received: dict[float, float] = {}  # bar time -> monotonic arrival (latency benchmark)
        self._queue: queue.Queue[tuple[BarMessage, float]] = queue.Queue()
        self._stopped = threading.Event()
        self.wakeup = threading.Event()  # shared by every feed of a router: any bar ends the wait
        self._last_stamp = float("-inf")
        self.dropped = 0

    def islive(self) -> bool:
        """Live: cerebro must not preload or run in vectorised mode."""
        return True

    def put(self, message: BarMessage, arrived: float | None = None) -> None:
        """Queue a bar (called by the router thread)."""
        self._queue.put((message, time.monotonic() if arrived is None else arrived))
        self.wakeup.set()

    def shutdown(self) -> None:
        """Make `_load` return False once the queued bars are consumed."""
        self._stopped.set()

    def _load(self) -> bool | None:
        waited = False
        while True:
            try:
                message, arrived = self._queue.get_nowait()
            except queue.Empty:
                if self._stopped.is_set():
                    return False
                if waited or not self._qcheck:
                    return None
                # Wait at most qcheck (cerebro's loop must keep turning for timers and stop);
                # the event is shared, so a bar for any symbol ends the wait at once.
                self.wakeup.wait(self._qcheck)
                self.wakeup.clear()
                waited = True
                continue
            bar = message.bar
            stamp = bt.date2num(bar.timestamp.astimezone(UTC).replace(tzinfo=None))
            if stamp <= self._last_stamp:
                self.dropped += 1  # older than (or a repeat of) the last bar seen
                continue
            self._last_stamp = stamp
            lines = self.lines
            lines.datetime[0] = stamp
            lines.open[0], lines.high[0], lines.low[0], lines.close[0] = bar.open, bar.high, bar.low, bar.close
            lines.volume[0] = bar.volume
            lines.openinterest[0] = 0.0
            lines.vwap[0] = float("nan") if bar.vwap is None else bar.vwap
            lines.trade_count[0] = float("nan") if bar.trade_count is None else float(bar.trade_count)
            self.fmel_hashes[stamp] = message.data_hash
            self.received[stamp] = arrived
            return True


def make_feed(symbol: str, timeframe: str = Timeframe.MINUTE) -> BusDataFeed:
    """A feed for `symbol` named after it (FMEL and the broker key on the name)."""
    known = Timeframe.parse(timeframe)
    tf, compression = BACKTRADER_TIMEFRAMES[known]
    return BusDataFeed(name=symbol, symbol=symbol, bar_timeframe=known.value, timeframe=tf, compression=compression)


# Every bar type the router hands to feeds; a filter on these fits any universe.
BAR_TYPES = ("bar", "updated_bar", "daily_bar")


def subscription_filter(symbols: Iterable[str]) -> str:
    """The Pub/Sub filter for an agent's subscription: always within MAX_FILTER_LENGTH bytes.

    The agent's symbols when they fit (Pub/Sub rejects a longer filter, and 16 symbols do not),
    else bars of any symbol: the router drops the others in the process, as it must anyway
    where the bus does not apply filters.
    """
    by_symbol = " OR ".join(f'attributes.symbol = "{s}"' for s in sorted(set(symbols)))
    if by_symbol and len(by_symbol.encode()) <= MAX_FILTER_LENGTH:
        return by_symbol
    return " OR ".join(f'attributes.type = "{t}"' for t in BAR_TYPES)


class BusRouter:
    """Pull each topic's one subscription and route bars to feeds by symbol."""

    def __init__(
        self, bus: MessageBus, subscriptions: Sequence[tuple[str, str]], feeds: Iterable[BusDataFeed],
        *, batch: int = 100, wait_s: float = 0.2,
    ) -> None:
        self.bus = bus
        self.subscriptions = list(subscriptions)  # (subscription, topic)
        self.feeds = {f.p.symbol: f for f in feeds}
        self.wakeup = threading.Event()
        for feed in self.feeds.values():
            feed.wakeup = self.wakeup
        self.batch = batch
        self.wait_s = wait_s
        self.routed = self.ignored = self.malformed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bus-router", daemon=True)

    def create(self) -> None:
        """Create the subscriptions (one per topic, filtered to what fits: see subscription_filter)."""
        text = subscription_filter(self.feeds)
        for subscription, topic in self.subscriptions:
            self.bus.create_topic(topic)
            self.bus.create_subscription(subscription, topic, filter=text, ack_deadline_s=30.0)

    def start(self) -> None:
        """Start routing."""
        self._thread.start()

    def stop(self, *, delete: bool = True) -> None:
        """Stop routing, end every feed, and delete the subscriptions when `delete`."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
        for feed in self.feeds.values():
            feed.shutdown()
        self.wakeup.set()
        if delete:
            for subscription, _ in self.subscriptions:
                try:
                    self.bus.delete_subscription(subscription)
                except FarmError as exc:
                    log.warning("could not delete subscription %s: %s", subscription, exc)

    def _run(self) -> None:
        while not self._stop.is_set():
            for subscription, _ in self.subscriptions:
                try:
                    self._pump(subscription, self.wait_s / len(self.subscriptions))
                except FarmError as exc:  # a transient bus failure: back off, keep going
                    log.warning("pull from %s failed: %s", subscription, exc)
                    self._stop.wait(0.5)

    def _pump(self, subscription: str, wait_s: float) -> None:
        received = self.bus.pull(subscription, max_messages=self.batch, timeout_s=wait_s)
        if not received:
            return
        arrived = time.monotonic()
        for message in received:
            feed = self.feeds.get(message.attributes.get("symbol", ""))
            if feed is None:
                self.ignored += 1
                continue
            try:
                decoded = decode(message.data)
            except InvalidInputError as exc:
                self.malformed += 1
                log.warning("dropping malformed market message %s: %s", message.message_id, exc)
                continue
            if isinstance(decoded, BarMessage) and decoded.symbol == feed.p.symbol:
                feed.put(decoded, arrived)
                self.routed += 1
            else:
                self.ignored += 1
        self.bus.ack(subscription, [m.ack_id for m in received])
