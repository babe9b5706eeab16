"""The bars a replay delivers: the ingester's archive over the session's window, per runtime run.

A paper session's decisions cite the bars they read by `data_hash`. The replay gets, for every
symbol and bar time in the window, the archived bar the session cited (so an updated bar the
session took is the one replayed), else the first one archived (the one the bus delivered
first). A session whose runtime restarted is replayed run by run (`Segment`): the agent starts
afresh as it did, the broker's account carries over as the session's did.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from shared.ports.warehouse import Warehouse

ARCHIVE_SQL = """
SELECT symbol, timestamp, open, high, low, close, volume, trade_count, vwap, data_hash, ingested_at
FROM market_data.bars
WHERE symbol IN UNNEST(@symbols) AND timeframe = @timeframe
  AND timestamp >= @start AND timestamp <= @end
ORDER BY symbol, timestamp, ingested_at
"""
COLUMNS = ("open", "high", "low", "close", "volume", "trade_count", "vwap", "data_hash")


@dataclass(frozen=True)
class Segment:
    """One runtime run of a session: its decisions' first and last bar times and first point."""

    first: datetime
    last: datetime
    first_point: int
    decisions: int


def split_runs(marks: Sequence[tuple[int, datetime, datetime]], run_starts: Iterable[datetime]) -> list[Segment]:
    """Split decisions, as (point, bar time, recorded at) in point order, at the runtime's start times.

    A decision belongs to the last run started before it was recorded (`run_starts` are the
    session's `runs[].started_at`, written before a run makes its first decision).
    """
    starts = sorted(run_starts)
    groups: list[list[tuple[int, datetime, datetime]]] = []
    current = -1
    for mark in marks:
        run = bisect.bisect_right(starts, mark[2]) - 1
        if run != current or not groups:
            groups.append([])
            current = run
        groups[-1].append(mark)
    return [Segment(g[0][1], max(m[1] for m in g), g[0][0], len(g)) for g in groups if g]


def duplicated(rows: Iterable[dict[str, Any]]) -> bool:
    """Whether the archive holds two bars of one symbol at one time (an updated bar, a re-ingest)."""
    seen: set[tuple[str, Any]] = set()
    for row in rows:
        key = (row["symbol"], row["timestamp"])
        if key in seen:
            return True
        seen.add(key)
    return False


def load_archive(warehouse: Warehouse, symbols: Sequence[str], timeframe: str, start: datetime,
                 end: datetime) -> list[dict[str, Any]]:
    """The archived bars of `symbols` with times in [start, end], oldest first per symbol."""
    return warehouse.query(ARCHIVE_SQL, {"symbols": list(dict.fromkeys(symbols)), "timeframe": timeframe,
                                         "start": start, "end": end})


def archive_index(rows: Iterable[dict[str, Any]]) -> dict[str, tuple[str, datetime]]:
    """data_hash -> (symbol, bar time) of every archived bar."""
    return {str(r["data_hash"]): (str(r["symbol"]), as_utc(r["timestamp"])) for r in rows}


def replay_frames(rows: Iterable[dict[str, Any]], symbols: Sequence[str], cited: set[str],
                  start: datetime, end: datetime) -> dict[str, pd.DataFrame]:
    """One loader-shaped frame per symbol (shared.market.loader) over [start, end]: one bar per time."""
    chosen: dict[tuple[str, datetime], dict[str, Any]] = {}
    for row in rows:
        at = as_utc(row["timestamp"])
        if not start <= at <= end:
            continue
        key = (str(row["symbol"]), at)
        if key not in chosen or (row["data_hash"] in cited and chosen[key]["data_hash"] not in cited):
            chosen[key] = row
    by_symbol: dict[str, list[tuple[datetime, dict[str, Any]]]] = {s: [] for s in symbols}
    for (symbol, at), row in sorted(chosen.items()):
        by_symbol.setdefault(symbol, []).append((at, row))
    return {symbol: _frame(by_symbol[symbol]) for symbol in symbols}


def between_runs(rows: Iterable[dict[str, Any]], runs: Sequence[Segment]) -> list[dict[str, Any]]:
    """Archived bars that fell between two runs (the runtime was stopped, paused or restarting)."""
    gaps = [(a.last, b.first) for a, b in itertools.pairwise(runs)]
    out = []
    for row in rows:
        at = as_utc(row["timestamp"])
        if any(lo < at < hi for lo, hi in gaps):
            out.append({"symbol": row["symbol"], "bar_time": at.isoformat(), "data_hash": row["data_hash"]})
    return out


def _frame(rows: list[tuple[datetime, dict[str, Any]]]) -> pd.DataFrame:
    index = pd.DatetimeIndex([at.replace(tzinfo=None) for at, _ in rows], name="datetime")
    frame = pd.DataFrame({c: [r[c] for _, r in rows] for c in COLUMNS}, index=index)
    for column in ("open", "high", "low", "close", "volume", "vwap", "trade_count"):
        frame[column] = frame[column].astype("float64")  # NULLs become NaN, as the live feed has them
    frame["openinterest"] = 0.0
    return frame


def as_utc(value: Any) -> datetime:
    """A warehouse timestamp (aware, naive UTC or ISO text) as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

