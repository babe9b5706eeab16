"""Access tracker: record which market-data lines a strategy reads during one decision.

Instead of tracing, the tracker swaps the class of every data-feed line (and of every line of
the strategy's indicators) for a subclass whose `__getitem__`/`get` append `(source, ago, size)`
to a sink while a decision is being recorded. Outside decisions the cost is one closure lookup
per read. Lines that are not market data (the feeds' datetime, the strategy's own lines) get the
same class with no source, so they never record. An indicator read is attributed by lineage:
the feed lines the indicator is built on (found by walking its inputs and sub-indicators), over
its warm-up window, so the record says which bars the value depended on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import backtrader as bt
from backtrader.lineiterator import LineIterator
from backtrader.lineroot import LineRoot
from backtrader.lineseries import LineSeriesStub

from shared.fmel.sources import FeedInfo, FeedLine, Lineage, Read
from shared.fmel.summary import indicator_reads, summarise

__all__ = [
    "PLATFORM_CALLS", "AccessTracker", "FeedInfo", "FeedLine", "Lineage", "Read", "describe_indicator",
    "indicator_reads", "summarise",
]

# Strategy calls that read lines on the agent's behalf while they build an order (a market
# order's price is the close, a target size needs the value): the platform's reads, not inputs
# of the agent's decision, so they are never recorded.
PLATFORM_CALLS = ("buy", "sell", "close", "cancel", "order_target_size", "order_target_value",
                  "order_target_percent", "buy_bracket", "sell_bracket")


class AccessTracker:
    """Instrument a strategy's feeds and indicators; collect reads between `start()` and `stop()`."""

    def __init__(self, strategy: bt.Strategy) -> None:
        self.strategy = strategy
        self.feeds: list[FeedInfo] = []
        # One cell shared by every tracked class: the list reads go to, None outside decisions.
        # Public so the analyzer can open and close a decision without two method calls.
        self.cell: list[list[Read] | None] = [None]
        self._classes: dict[type, type] = {}
        self._swapped: list[tuple[Any, type]] = []
        self._feed_lines: dict[int, FeedLine] = {}
        self._feeds_by_id: dict[int, FeedInfo] = {}

    def install(self) -> None:
        """Swap in the recording line classes on every feed, strategy-level indicator and the strategy."""
        for i, data in enumerate(self.strategy.datas):
            info = FeedInfo(data, data._name or f"data{i}")
            self.feeds.append(info)
            self._feeds_by_id[id(data)] = info
            for n, line in enumerate(data.lines):
                field = data.lines._getlinealias(n)
                if field == "datetime":
                    self._swap(line, None)  # time is the decision's context, not market data it depends on
                    continue
                source = FeedLine(info, field)
                self._feed_lines[id(line)] = source
                self._swap(line, source)
        for indicator in self.strategy._lineiterators[LineIterator.IndType]:
            self._instrument_indicator(indicator)
        # The strategy's own lines (its clock) are not market data either. They and the feeds'
        # datetime lines are swapped anyway, never recording: backtrader moves every one of these
        # lines each bar through shared call sites (`line.advance()`, `line[1]`), and one class
        # everywhere keeps those sites monomorphic, so CPython's specialised bytecode keeps working.
        for line in self.strategy.lines:
            self._swap(line, None)

    def uninstall(self) -> None:
        """Put every original line class back."""
        self.cell[0] = None
        for obj, base in reversed(self._swapped):
            obj.__class__ = base
        self._swapped.clear()

    def untracked(self, method: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap `method` so the lines it reads are not recorded (the platform's reads, not the agent's)."""
        cell = self.cell

        def call(*args: Any, **kwargs: Any) -> Any:
            reads, cell[0] = cell[0], None
            try:
                return method(*args, **kwargs)
            finally:
                cell[0] = reads

        return call

    def start(self) -> list[Read]:
        """Begin recording reads; return the list they are appended to."""
        reads: list[Read] = []
        self.cell[0] = reads
        return reads

    def stop(self) -> None:
        """Stop recording reads."""
        self.cell[0] = None

    def _instrument_indicator(self, indicator: Any) -> None:
        roots: dict[tuple[int, str], FeedLine] = {}
        self._roots(indicator, set(), roots)
        window = max(1, int(getattr(indicator, "_minperiod", 1)))
        name, params = describe_indicator(indicator)
        if isinstance(indicator, bt.LineSingle):
            lines = [(indicator, "")]
        else:
            lines = [(line, indicator.lines._getlinealias(n) if len(indicator.lines) > 1 else "")
                     for n, line in enumerate(indicator.lines)]
        for line, alias in lines:
            if id(line) not in self._feed_lines and isinstance(line, bt.LineSingle):
                self._swap(line, Lineage(name, tuple(roots.values()), window, params, alias))

    def _roots(self, obj: Any, seen: set[int], out: dict[tuple[int, str], FeedLine]) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        line = self._feed_lines.get(id(obj))
        if line is not None:
            out[(id(line.feed), line.field)] = line
            return
        feed = self._feeds_by_id.get(id(obj))
        if feed is not None:  # a whole feed as input: backtrader uses its first line (close)
            first = self._feed_lines.get(id(feed.data.lines[0]))
            if first is not None:
                out[(id(feed), first.field)] = first
            return
        children = [*getattr(obj, "datas", ()), *getattr(obj, "_datas", ())]
        children += [v for k in ("a", "b") if isinstance(v := obj.__dict__.get(k), LineRoot)]
        if isinstance(obj, LineSeriesStub):  # how backtrader wraps a single line given as input
            children.append(obj.lines[0])
        lineiterators = getattr(obj, "_lineiterators", None)
        if lineiterators:
            children += lineiterators.get(LineIterator.IndType, [])
        for child in children:
            self._roots(child, seen, out)

    def _swap(self, line: Any, source: FeedLine | Lineage | None) -> None:
        base = type(line)
        tracked = self._classes.get(base) or self._make_class(base)
        line._fmel_src = source
        line.__class__ = tracked
        self._swapped.append((line, base))

    def _make_class(self, base: Any) -> type:  # a backtrader line class (backtrader is untyped)
        state = self.cell
        base_getitem: Callable[[Any, int], float] = base.__getitem__
        base_get: Callable[..., Any] = base.get

        def __getitem__(self: Any, ago: int) -> float:
            value = base_getitem(self, ago)
            reads = state[0]
            if reads is not None and (source := self._fmel_src) is not None:
                reads.append((source, ago, 1, value))
            return value

        if base_getitem is bt.LineBuffer.__getitem__ and base.idx is bt.LineBuffer.idx:
            # backtrader reads feed lines many times per bar outside decisions (tick fill,
            # broker): inlining LineBuffer's lookup (reading `_idx` rather than calling the
            # `idx` property) keeps those reads no dearer than untracked ones.
            def __getitem__(self: Any, ago: int) -> float:
                value = self.array[self._idx + ago]
                reads = state[0]
                if reads is not None and (source := self._fmel_src) is not None:
                    reads.append((source, ago, 1, value))
                return value

        def get(self: Any, ago: int = 0, size: int = 1) -> Any:
            reads = state[0]
            if reads is not None and (source := self._fmel_src) is not None:
                reads.append((source, ago, size, None))
            return base_get(self, ago, size)

        tracked = type(base)(f"Tracked{base.__name__}", (base,), {"__getitem__": __getitem__, "get": get})
        self._classes[base] = tracked
        return tracked


def describe_indicator(indicator: Any) -> tuple[str, str]:
    """Name an indicator as a trader would (`SMA`, `period=10`); operations get their operator."""
    name = type(indicator).__name__
    if name == "LinesOperation":  # `self.data.high - self.data.low` and friends
        name = f"Operation({getattr(getattr(indicator, 'operation', None), '__name__', '?')})"
    try:
        items = indicator.p._getkwargs().items()  # this instance's values, not the class defaults
    except AttributeError:
        items = ()
    shown = [f"{key}={value}" for key, value in items if isinstance(value, int | float | str | bool) and
             not key.startswith("_")][:6]
    return name, ",".join(shown)
