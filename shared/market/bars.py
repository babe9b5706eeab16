"""The OHLCV bar, its stable content hash, and its `market_data.bars` row."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.domain.timeframe import TIMEFRAMES, Timeframe
from shared.errors import InvalidInputError

__all__ = ["TIMEFRAMES", "Bar", "hash_bar_values"]
_TIMEFRAME_SET = frozenset(TIMEFRAMES)  # a set lookup per bar: the ingester builds many


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of one symbol; `timestamp` is the bar's open time in UTC."""

    symbol: str
    timeframe: str
    timestamp: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    trade_count: int | None = None
    vwap: float | None = None
    source: str = "unknown"

    def __post_init__(self) -> None:
        if not self.symbol:
            raise InvalidInputError("a bar needs a symbol")
        if self.timeframe not in _TIMEFRAME_SET:
            Timeframe.parse(self.timeframe)  # raises the one message for an unknown timeframe
        timestamp = self.timestamp
        tz = timestamp.tzinfo
        if tz is None:
            raise InvalidInputError(f"bar timestamp must be timezone-aware (UTC), got {timestamp!r}")
        if tz is not UTC and timestamp.utcoffset():  # the ingester's bars are UTC: skip the call
            object.__setattr__(self, "timestamp", timestamp.astimezone(UTC))


def _num(value: float | None) -> str:
    # repr() of a float is the shortest round-tripping text, so equal floats hash equally everywhere.
    if value is None:
        return "-"
    return repr(float(value))


@functools.lru_cache(maxsize=8192)
def _time_text(timestamp: datetime) -> str:
    # Cached: strftime dominated hashing, and live frames carry many bars of the same minute.
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    return timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hash_bar_values(
    symbol: str,
    timeframe: str,
    timestamp: datetime,
    open_: float,
    high: float,
    low: float,
    close: float,
    volume: float,
    trade_count: int | None = None,
    vwap: float | None = None,
) -> str:
    """Hash a bar given as values; `bar_hash` of the same bar gives the same text."""
    ts = _time_text(timestamp)
    count = "-" if trade_count is None else str(int(trade_count))
    if (
        type(open_) is float
        and type(high) is float
        and type(low) is float
        and type(close) is float
        and type(volume) is float
        and (vwap is None or type(vwap) is float)
    ):
        # The usual case (parsed floats): one f-string builds the very text `_num` would, minus
        # six calls; anything else (ints, numpy floats) takes the general path.
        last = "-" if vwap is None else repr(vwap)
        text = f"{symbol}|{timeframe}|{ts}|{open_!r}|{high!r}|{low!r}|{close!r}|{volume!r}|{count}|{last}"
    else:
        text = "|".join(
            (symbol, timeframe, ts, _num(open_), _num(high), _num(low), _num(close), _num(volume), count, _num(vwap))
        )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def bar_hash(bar: Bar) -> str:
    """Return the bar's stable content hash (32 hex chars); the source is not part of it."""
    return hash_bar_values(
        bar.symbol,
        bar.timeframe,
        bar.timestamp,
        bar.open,
        bar.high,
        bar.low,
        bar.close,
        bar.volume,
        bar.trade_count,
        bar.vwap,
    )


def bar_to_row(bar: Bar, *, ingested_at: datetime | None = None) -> dict[str, Any]:
    """Return the bar as a `market_data.bars` row, `data_hash` included."""
    return {
        "symbol": bar.symbol,
        "timeframe": bar.timeframe,
        "timestamp": bar.timestamp,
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "volume": bar.volume,
        "trade_count": bar.trade_count,
        "vwap": bar.vwap,
        "source": bar.source,
        "data_hash": bar_hash(bar),
        "ingested_at": ingested_at,
    }


def row_to_bar(row: Mapping[str, Any]) -> Bar:
    """Rebuild a `Bar` from a `market_data.bars` row (naive timestamps are taken as UTC)."""
    ts = row["timestamp"]
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts)
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    count = row.get("trade_count")
    vwap = row.get("vwap")
    return Bar(
        symbol=row["symbol"],
        timeframe=row["timeframe"],
        timestamp=ts,
        open=float(row["open"]),
        high=float(row["high"]),
        low=float(row["low"]),
        close=float(row["close"]),
        volume=float(row["volume"]),
        trade_count=None if count is None else int(count),
        vwap=None if vwap is None else float(vwap),
        source=row.get("source") or "unknown",
    )
