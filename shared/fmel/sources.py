"""What a tracked read names: a feed line, or an indicator line with the feed lines it depends on.

`FeedInfo` is one data feed (its symbol and the hashes of its bars); `FeedLine` a read of one
of its lines; `Lineage` a read of an indicator line, attributed to the feed lines the indicator
is built on over its warm-up window. `Read` is what the tracker appends per read.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import backtrader as bt

from shared.domain.timeframe import Timeframe
from shared.market.backtrader_timeframes import timeframe_of
from shared.market.bars import hash_bar_values

Read = tuple[Any, int, int, float | None]  # (source, ago, size, the value read when size is 1)


class FeedInfo:
    """One tracked data feed: its symbol and the hashes of its bars."""

    __slots__ = ("_cache", "data", "dt_line", "hashes", "symbol", "timeframe")

    def __init__(self, data: bt.AbstractDataBase, symbol: str) -> None:
        self.data = data
        self.dt_line = data.lines.datetime
        self.symbol = symbol
        # The fmel timeframe label; a feed without its own `fmel_timeframe` is named by its bar size.
        self.timeframe = getattr(data, "fmel_timeframe", None) or str(
            timeframe_of(data._timeframe, data._compression) or Timeframe.DAY
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

        def value(name: str) -> Any:  # backtrader's float, or None for a line the feed lacks
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
