"""A finished run's chart: the curves for a client to draw, and the same drawn as a PNG.

The curves are the agent's equity, the benchmark (equal-weight buy-and-hold of the run's
symbols, started with the run's cash, computed here from the bars the run used), the drawdown
and one marker per trade entry and exit. The title says when the data is synthetic. Both are
computed once per run and kept next to its report (`backtests/{run_id}/curves.json`,
`chart.png`): a finished run never changes.
"""

from __future__ import annotations

import bisect
import io
import json
from datetime import UTC, date, datetime
from typing import Any

from shared.domain.money import DEFAULT_CASH
from shared.domain.timeframe import Timeframe
from shared.errors import ConflictError
from shared.ports.blobs import BlobStore
from shared.ports.documents import DocumentStore
from shared.ports.warehouse import Warehouse
from shared.services.backtest_views import owned_run, run_data_label

CURVES_VERSION = 1
CLOSES_SQL = """
SELECT symbol, timestamp, close FROM market_data.bars
WHERE symbol IN UNNEST(@symbols) AND timeframe = @timeframe AND timestamp >= @start AND timestamp < @end
ORDER BY symbol, timestamp
"""


def curves_key(run_id: str) -> str:
    """Where a run's curves are kept."""
    return f"backtests/{run_id}/curves.json"


def png_key(run_id: str) -> str:
    """Where the API's drawing of a run is kept."""
    return f"backtests/{run_id}/chart.png"


def backtest_curves(
    owner_uid: str, run_id: str, *, documents: DocumentStore, blobs: BlobStore, warehouse: Warehouse
) -> dict[str, Any]:
    """The run's equity, benchmark, drawdown and trade markers; 409 until it has succeeded."""
    doc = owned_run(documents, owner_uid, run_id)
    if doc.get("status") != "succeeded" or not doc.get("report_key"):
        raise ConflictError(f"backtest {run_id} is {doc.get('status')}: it has no chart",
                            details={"status": doc.get("status")})
    key = curves_key(run_id)
    if blobs.exists(key):
        return json.loads(blobs.get(key))
    report = json.loads(blobs.get(doc["report_key"]))
    request = doc.get("request") or report.get("request") or {}
    equity = [{"t": p["timestamp"], "v": p["value"]} for p in report.get("equity_curve") or []]
    data = doc.get("data") or run_data_label(doc, warehouse)
    curves = {
        "version": CURVES_VERSION, "run_id": run_id, "agent_id": doc.get("agent_id"),
        "title": _title(run_id, request, data), "data": data, "standard": bool(doc.get("standard")),
        "equity": equity,
        "benchmark": benchmark(warehouse, request, [p["t"] for p in equity]),
        "drawdown": [{"t": p["timestamp"], "v": p["drawdown"]} for p in report.get("drawdown") or []],
        "markers": markers(report.get("trades") or [], equity),
    }
    blobs.put(key, json.dumps(curves, separators=(",", ":")).encode(), content_type="application/json")
    return curves


def backtest_chart(
    owner_uid: str, run_id: str, *, documents: DocumentStore, blobs: BlobStore, warehouse: Warehouse
) -> bytes:
    """The run's chart as a PNG (equity, benchmark, trade markers over the drawdown)."""
    curves = backtest_curves(owner_uid, run_id, documents=documents, blobs=blobs, warehouse=warehouse)
    key = png_key(run_id)
    if blobs.exists(key):
        return blobs.get(key)
    png = render_png(curves)
    blobs.put(key, png, content_type="image/png")
    return png


def benchmark(warehouse: Warehouse, request: dict[str, Any], times: list[str]) -> list[dict[str, Any]]:
    """Equal-weight buy-and-hold of the run's symbols at each equity time, worth `cash` at the start."""
    if not times or not request.get("symbols"):
        return []
    rows = warehouse.query(CLOSES_SQL, {
        "symbols": list(request["symbols"]), "timeframe": request.get("timeframe") or Timeframe.DAY.value,
        "start": _midnight(request["start"]), "end": _midnight(request["end"]),
    })
    series: dict[str, tuple[list[datetime], list[float]]] = {}
    for row in rows:
        stamps, closes = series.setdefault(row["symbol"], ([], []))
        stamps.append(_utc(row["timestamp"]))
        closes.append(float(row["close"]))
    usable = {s: v for s, v in series.items() if v[1] and v[1][0] > 0}
    if not usable:
        return []
    cash = float(request.get("cash") or DEFAULT_CASH)
    points = []
    for t in times:
        at = _utc(t)
        ratios = []
        for stamps, closes in usable.values():
            i = bisect.bisect_right(stamps, at) - 1
            ratios.append(closes[max(i, 0)] / closes[0])  # before its first bar: its first price
        points.append({"t": t, "v": cash * sum(ratios) / len(ratios)})
    return points


def markers(trades: list[dict[str, Any]], equity: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One marker per trade entry and exit, placed on the equity curve at that time."""
    stamps = [_utc(p["t"]) for p in equity]
    out = []
    for trade in trades:
        for kind, field in (("entry", "entry_time"), ("exit", "exit_time")):
            when = trade.get(field)
            if not when:
                continue
            i = max(bisect.bisect_right(stamps, _utc(when)) - 1, 0)
            out.append({"t": when, "kind": kind, "symbol": trade.get("symbol"), "size": trade.get("size"),
                        "pnl": trade.get("pnl") if kind == "exit" else None,
                        "v": equity[i]["v"] if equity else None})
    return sorted(out, key=lambda m: m["t"])


def render_png(curves: dict[str, Any]) -> bytes:
    """Draw the curves: equity, benchmark and markers above, drawdown below."""
    import matplotlib

    matplotlib.use("Agg")  # no display in a server
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 6), dpi=100)
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    times = [_utc(p["t"]) for p in curves["equity"]]
    top.plot(times, [p["v"] for p in curves["equity"]], label="agent equity", color="#1f77b4")
    if curves["benchmark"]:
        top.plot([_utc(p["t"]) for p in curves["benchmark"]], [p["v"] for p in curves["benchmark"]],
                 label="buy and hold (equal weight)", color="#7f7f7f", linestyle="--")
    for kind, style, colour in (("entry", "^", "#2ca02c"), ("exit", "v", "#d62728")):
        chosen = [m for m in curves["markers"] if m["kind"] == kind and m["v"] is not None]
        if chosen:
            top.scatter([_utc(m["t"]) for m in chosen], [m["v"] for m in chosen], marker=style, color=colour,
                        s=28, label=f"trade {kind}", zorder=3)
    top.set_title(curves["title"])
    top.set_ylabel("value")
    top.legend(loc="upper left", fontsize="small")
    bottom.fill_between([_utc(p["t"]) for p in curves["drawdown"]], [-abs(p["v"]) for p in curves["drawdown"]],
                        color="#d62728", alpha=0.4)
    bottom.set_ylabel("drawdown")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _title(run_id: str, request: dict[str, Any], data: dict[str, Any] | None) -> str:
    timeframe = request.get("timeframe", Timeframe.DAY.value)
    window = f"{request.get('start', '?')} to {request.get('end', '?')} ({timeframe})"
    title = f"backtest {run_id}: {len(request.get('symbols') or [])} symbols, {window}"
    return title + (" - SYNTHETIC DATA" if data and data.get("synthetic") else "")


def _midnight(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(str(day)[:10]), datetime.min.time(), UTC)


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


__all__ = ["backtest_chart", "backtest_curves", "benchmark", "markers", "render_png"]
