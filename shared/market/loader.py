"""Load bars from the warehouse into per-symbol DataFrames and backtrader feeds.

Each frame keeps the warehouse's `data_hash` per bar so FMEL can name the exact bar a decision
read. Frames are indexed by naive UTC timestamps, which is what backtrader expects.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import backtrader as bt
import pandas as pd

from shared.domain.timeframe import Timeframe
from shared.errors import InvalidInputError
from shared.market.backtrader_timeframes import BACKTRADER_TIMEFRAMES
from shared.ports.warehouse import Warehouse

BARS_QUERY = """
SELECT symbol, timestamp, open, high, low, close, volume, trade_count, vwap, data_hash
FROM market_data.bars
WHERE symbol IN UNNEST(@symbols) AND timeframe = @timeframe
  AND timestamp >= @start AND timestamp < @end
ORDER BY symbol, timestamp
"""
COLUMNS = ("open", "high", "low", "close", "volume", "trade_count", "vwap", "data_hash")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def load_bars(
    warehouse: Warehouse, symbols: Sequence[str], start: datetime, end: datetime, timeframe: str = Timeframe.DAY
) -> dict[str, pd.DataFrame]:
    """Return a frame per requested symbol (empty when the warehouse has none) for `[start, end)`."""
    if not symbols or any(not isinstance(s, str) or not s for s in symbols):
        raise InvalidInputError(f"symbols must be a non-empty list of names, got {symbols!r}")
    timeframe = Timeframe.parse(timeframe).value  # the warehouse gets a plain string
    start, end = _utc(start), _utc(end)
    if start >= end:
        raise InvalidInputError(f"start {start.isoformat()} must be before end {end.isoformat()}")
    rows = warehouse.query(
        BARS_QUERY,
        {"symbols": list(dict.fromkeys(symbols)), "timeframe": timeframe, "start": start, "end": end},
    )
    by_symbol: dict[str, list[dict]] = {s: [] for s in symbols}
    for row in rows:
        by_symbol.setdefault(row["symbol"], []).append(row)
    return {symbol: _frame(by_symbol[symbol]) for symbol in symbols}


def _frame(rows: list[dict]) -> pd.DataFrame:
    index = pd.DatetimeIndex([_naive_utc(r["timestamp"]) for r in rows], name="datetime")
    frame = pd.DataFrame({c: [r[c] for r in rows] for c in COLUMNS}, index=index)
    for c in ("open", "high", "low", "close", "volume", "vwap"):
        frame[c] = frame[c].astype("float64")
    frame["trade_count"] = frame["trade_count"].astype("float64")  # NULLs become NaN, as backtrader wants
    frame["openinterest"] = 0.0
    return frame


def _naive_utc(ts: datetime | str) -> datetime:
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts)
    return _utc(ts).replace(tzinfo=None) if ts.tzinfo else ts


class BarsFeed(bt.feeds.PandasData):
    """A pandas feed over a `load_bars` frame, exposing `trade_count` and `vwap` as extra lines."""

    lines = ("trade_count", "vwap")
    params = (("trade_count", "trade_count"), ("vwap", "vwap"))


def make_feed(symbol: str, frame: pd.DataFrame, timeframe: str = Timeframe.DAY) -> BarsFeed:
    """Return a backtrader feed named `symbol` that carries the frame's per-bar `data_hash`."""
    known = Timeframe.parse(timeframe)
    tf, compression = BACKTRADER_TIMEFRAMES[known]
    feed = BarsFeed(dataname=frame, name=symbol, timeframe=tf, compression=compression)
    feed.fmel_timeframe = known.value
    if "data_hash" in frame.columns:
        # FMEL looks bars up by backtrader's float datetime, the key it can read from the feed.
        stamps = frame.index.to_pydatetime()
        feed.fmel_hashes = {bt.date2num(t): h for t, h in zip(stamps, frame["data_hash"], strict=True)}
    return feed
