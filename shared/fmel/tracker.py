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

import math
from collections.abc import Callable
from datetime import UTC
from typing import Any

import backtrader as bt
from backtrader.lineiterator import LineIterator
from backtrader.lineroot import LineRoot
from backtrader.lineseries import LineSeriesStub

from shared.market.bars import hash_bar_values

Read = tuple[Any, int, int, float | None]  # (source, ago, size, the value read when size is 1)
# Strategy calls that read lines on the agent's behalf while they build an order (a market
# order's price is the close, a target size needs the value): the platform's reads, not inputs
# of the agent's decision, so they are never recorded.
PLATFORM_CALLS = ("buy", "sell", "close", "cancel", "order_target_size", "order_target_value",
                  "order_target_percent", "buy_bracket", "sell_bracket")
_TIMEFRAMES = {
    (bt.TimeFrame.Minutes, 1): "1Min",
    (bt.TimeFrame.Minutes, 5): "5Min",
    (bt.TimeFrame.Minutes, 15): "15Min",
    (bt.TimeFrame.Minutes, 60): "1Hour",
    (bt.TimeFrame.Days, 1): "1Day",
}


class FeedInfo:
    """One tracked data feed: its symbol and the hashes of its bars."""

    __slots__ = ("_cache", "data", "dt_line", "hashes", "symbol", "timeframe")

    def __init__(self, data: bt.AbstractDataBase, symbol: str) -> None:
        self.data = data
        self.dt_line = data.lines.datetime
        self.symbol = symbol
        self.timeframe = getattr(data, "fmel_timeframe", None) or _TIMEFRAMES.get(
            (data._timeframe, data._compression), "1Day"
        )
        # Keep the feed's own dict even while empty: a live feed fills it bar by bar.
        hashes: dict[float, str] | None = getattr(data, "fmel_hashes", None)
        self.hashes = hashes if hashes is not None else {}
        self._cache: dict[float, str] = {}

    def hash_at(self, ago: int) -> str | None:
        """Return the data_hash of the bar `ago` bars from the current one, None if there is none."""
        dt_line = self.dt_line
        array = dt_line.array
        pos = dt_line._idx + ago  # `_idx`, not the `idx` property: one call fewer per hashed read
        if pos < 0 or pos >= len(array):
            return None
        stamp = array[pos]
        found = self.hashes.get(stamp) or self._cache.get(stamp)
        if found is None:
            found = self._cache[stamp] = self._compute(pos, stamp)
        return found

    def value_at(self, field: str, ago: int) -> float | None:
        """The bar's own `field` `ago` bars from the current one (None for an indicator label)."""
        line = getattr(self.data.lines, field, None) if ":" not in field else None
        if line is None:
            return None
        pos = line._idx + ago
        return line.array[pos] if 0 <= pos < len(line.array) else None

    def _compute(self, pos: int, stamp: float) -> str:
        # A feed without warehouse hashes (CSV, live without ids): hash the bar's own values.
        lines = self.data.lines

        def value(name: str) -> float | None:
            line = getattr(lines, name, None)
            return None if line is None else line.array[pos - line.idx + lines.datetime.idx]

        return hash_bar_values(
            self.symbol,
            self.timeframe,
            bt.num2date(stamp).replace(tzinfo=UTC),
            value("open"),
            value("high"),
            value("low"),
            value("close"),
            value("volume"),
        )


class FeedLine:
    """The source of a read of one feed line."""

    __slots__ = ("feed", "field", "single", "targets")

    def __init__(self, feed: FeedInfo, field: str) -> None:
        self.feed = feed
        self.field = field
        self.targets = ((feed, field),)
        self.single = self.targets[0]  # what a one-value read of it names, looked up once


class Lineage:
    """The source of a read of an indicator line: feed lines it depends on, over `window` bars.

    `params` ("period=10") and `line` (the indicator's line read, "" for its only one) describe
    it for an explanation; the labels of its reads (`SMA:close[-9..0]`) name the lineage.
    """

    __slots__ = ("expanded", "labels", "line", "name", "params", "roots", "single", "targets", "window")

    def __init__(self, name: str, roots: tuple[FeedLine, ...], window: int, params: str = "", line: str = "") -> None:
        self.name = name
        self.roots = roots
        self.window = window
        self.params = params
        self.line = line
        self.labels = tuple(f"{name}:{root.field}[{1 - window}..0]" for root in roots)
        self.targets = tuple((root.feed, label) for root, label in zip(roots, self.labels, strict=True))
        self.expanded = tuple((root.feed, root.field) for root in roots)
        self.single = self.targets[0] if len(self.targets) == 1 else None


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

    def _make_class(self, base: type) -> type:
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


def indicator_reads(reads: list[Read]) -> list[dict[str, Any]]:
    """The indicator values a decision read, each once: what, on what input, which bar, the value."""
    seen: set[tuple[int, int]] = set()
    out: list[dict[str, Any]] = []
    for source, ago, size, value in reads:
        if type(source) is not Lineage or size != 1 or (id(source), ago) in seen:
            continue
        seen.add((id(source), ago))
        inputs = ", ".join(f"{root.feed.symbol} {root.field}" for root in source.roots)
        out.append({"name": source.name, "params": source.params, "line": source.line, "input": inputs,
                    "index": ago, "value": _number(value)})
    return out


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def summarise(reads: list[Read], *, expand: bool = False) -> tuple[list[dict[str, Any]], int]:
    """Turn raw reads into `data_accessed` entries (one per bar read) and the count of reads.

    Each (symbol, field, index) is kept once, numbered by first access. An indicator read is
    recorded, by default, as one read per input line named `"<Indicator>:<field>[<lo>..0]"` on
    the bar the indicator value belongs to: the value depended on that field over the bars
    `lo..0` relative to that bar (its warm-up window). With `expand=True` it is instead spelled
    out as one plain read per bar of the window, which is exact but far bigger.
    """
    if not reads:
        return [], 0
    if len(reads) == 1:  # the common decision: one value of one source, without the general loop
        source, ago, size, value = reads[0]
        target = source.single
        if size == 1 and target is not None and not (expand and type(source) is Lineage):
            return _summarise_one(target, ago, value if type(source) is Lineage else None)
    groups: dict[tuple[FeedInfo, int], tuple[list[str], list[dict[str, Any]]]] = {}
    seen: set[tuple[FeedInfo, str, int]] = set()
    accessed: list[dict[str, Any]] = []
    seq = 0
    for source, ago, size, reported in reads:
        lineage = type(source) is Lineage
        if expand and lineage:
            first, targets = ago - size + 1 - (source.window - 1), source.expanded
        else:
            first, targets = ago - size + 1, source.targets
        for feed, field in targets:
            lowest = 1 - feed.dt_line.lencount  # no bar before the first
            for index in range(max(lowest, first), ago + 1):
                key = (feed, field, index)
                if key in seen:
                    continue
                seen.add(key)
                group = groups.get((feed, index))
                if group is None:
                    data_hash = feed.hash_at(index)
                    if data_hash is None:
                        continue
                    group = groups[(feed, index)] = ([field], [])
                    accessed.append({"symbol": feed.symbol, "data_hash": data_hash, "fields": group[0], "reads": group[1]})
                elif field not in group[0]:
                    group[0].append(field)
                seq += 1
                # A price or volume: the bar's own value. An indicator: the value the read returned.
                value = (reported if index == ago else None) if lineage and not expand else feed.value_at(field, index)
                group[1].append({"seq": seq, "field": field, "index": index, "value": _number(value)})
    return accessed, seq


def _summarise_one(
    target: tuple[FeedInfo, str], ago: int, reported: float | None
) -> tuple[list[dict[str, Any]], int]:
    """Summarise a decision whose only read was the value `ago` bars back of one target."""
    feed, field = target
    data_hash = feed.hash_at(ago) if ago >= 1 - feed.dt_line.lencount else None
    if data_hash is None:
        return [], 0
    value = reported if reported is not None else feed.value_at(field, ago)
    reads = [{"seq": 1, "field": field, "index": ago, "value": _number(value)}]
    return [{"symbol": feed.symbol, "data_hash": data_hash, "fields": [field], "reads": reads}], 1
