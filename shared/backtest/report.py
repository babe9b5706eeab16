"""The backtest report (`backtests/{run_id}/report.json`) and its chart (`equity.png`)."""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

from shared.backtest.engine import EngineResult
from shared.schemas.messages import RunBacktest

REPORT_NAME = "report.json"
CHART_NAME = "equity.png"
OUTPUT_NAME = "output.log"


def report_key(run_id: str) -> str:
    """Where a run's report is stored (SPEC §11)."""
    return f"backtests/{run_id}/{REPORT_NAME}"


def chart_key(run_id: str) -> str:
    """Where a run's equity and drawdown chart is stored."""
    return f"backtests/{run_id}/{CHART_NAME}"


def output_key(run_id: str) -> str:
    """Where a run's agent output (its print and logging, capped) is kept for its owner."""
    return f"backtests/{run_id}/{OUTPUT_NAME}"


def build_report(run: RunBacktest, result: EngineResult, *, started_at: str, finished_at: str) -> dict[str, Any]:
    """Return the full report: request, scalar metrics, equity curve, drawdown and trades."""
    metrics = result.metrics
    return {
        "run_id": run.run_id,
        "agent_id": run.agent_id,
        "request": {
            "symbols": run.symbols, "start": run.start, "end": run.end, "timeframe": run.timeframe,
            "cash": run.cash, "commission": run.commission,
        },
        "started_at": started_at,
        "finished_at": finished_at,
        "decisions": result.decisions,
        "metrics": metrics.summary(),
        "equity_curve": metrics.equity_curve,
        "drawdown": metrics.drawdown,
        "trades": result.trades,
        "chart_key": chart_key(run.run_id),
    }


def encode_report(report: dict[str, Any]) -> bytes:
    """Serialise the report as JSON (metrics are already JSON-safe: no NaN or infinity)."""
    return json.dumps(report, separators=(",", ":"), allow_nan=False).encode()


def render_chart(report: dict[str, Any]) -> bytes:
    """Draw the equity curve over the drawdown as a PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display in a job or a server
    from matplotlib.figure import Figure

    times = [datetime.fromisoformat(p["timestamp"]) for p in report["equity_curve"]]
    values = [p["value"] for p in report["equity_curve"]]
    drawdown = [100.0 * p["drawdown"] for p in report["drawdown"]]  # <= 0: below the peak
    figure = Figure(figsize=(10, 6), dpi=100)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    top.plot(times, values, color="tab:blue", linewidth=1.2)
    top.set_title(f"Backtest {report['run_id']}: equity")
    top.set_ylabel("portfolio value ($)")
    top.grid(alpha=0.3)
    bottom.fill_between(times, drawdown, 0.0, color="tab:red", alpha=0.4)
    bottom.set_ylabel("drawdown (%)")
    bottom.grid(alpha=0.3)
    figure.autofmt_xdate()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
