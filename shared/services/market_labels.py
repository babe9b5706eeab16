"""Say where results' market data came from, so synthetic prices are never taken for real ones.

A backtest runs on the bars in `market_data.bars`; every bar carries its `source` ("synthetic"
for the generated market, "alpaca-iex" and the like for real data). The label is read from the
bars the run used, by the platform, never from anything the agent reports.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from shared.ports.warehouse import Warehouse

SYNTHETIC = "synthetic"
SYNTHETIC_NOTE = "synthetic market data: generated prices, not real quotes"
REAL_NOTE = "market data from {sources}"
SOURCES_SQL = """
SELECT source, COUNT(*) AS n FROM market_data.bars
WHERE symbol IN UNNEST(@symbols) AND timeframe = @timeframe AND timestamp >= @start AND timestamp < @end
GROUP BY source ORDER BY source
"""


def label(sources: list[str]) -> dict[str, Any]:
    """The label shown next to results: the sources, whether any is synthetic, and a note."""
    synthetic = any(s == SYNTHETIC or s.startswith(SYNTHETIC) for s in sources)
    if not sources:
        note = "no market data found for this window"
    elif synthetic:
        note = SYNTHETIC_NOTE
    else:
        note = REAL_NOTE.format(sources=", ".join(sources))
    return {"sources": sources, "synthetic": synthetic, "note": note}


def bars_label(
    warehouse: Warehouse, symbols: list[str], start: str, end: str, timeframe: str
) -> dict[str, Any]:
    """The label of the bars of `symbols` in [start, end) at `timeframe`."""
    rows = warehouse.query(SOURCES_SQL, {
        "symbols": list(symbols), "timeframe": timeframe, "start": _midnight(start), "end": _midnight(end),
    })
    return label([str(r["source"]) for r in rows if r.get("source")])


def replay_label() -> dict[str, Any]:
    """The label of a local paper session: the replay server streams the synthetic market."""
    return label([SYNTHETIC]) | {"note": SYNTHETIC_NOTE + " (the local replay of the synthetic market)"}


def _midnight(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day[:10]), datetime.min.time(), UTC)
