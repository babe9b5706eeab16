"""`farm demo` step: the example agent's automatic backtest, its main metrics and its chart.

Submitting an agent queues a backtest on its own; this step waits (bounded) for the agent to
reach `backtested` or `backtest_failed`, then prints the run's headline metrics and where the
equity chart sits in the local blob store under the demo's data directory.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from farm.commands._api_client import get_json

WAIT_FOR_BACKTEST_S = 120.0
PENDING = ("submitted", "validating", "stored", "backtesting")
# (label, metric key, format): returns as signed percentages, drawdown and win rate as plain ones.
SHOWN = (
    ("total return", "total_return", "pct"),
    ("Sharpe", "sharpe", "num"),
    ("Sortino", "sortino", "num"),
    ("max drawdown", "max_drawdown", "share"),
    ("trades", "trades", "int"),
    ("win rate", "win_rate", "share"),
    ("benchmark return", "benchmark_return", "pct"),
)


def show_backtest(ctx: Any) -> None:
    """Wait for the automatic backtest, print its main metrics and the chart's path on disk."""
    agent_id, token = ctx.notes.get("agent_id"), ctx.notes.get("token")
    if not agent_id:
        print("  no agent was submitted: nothing to backtest")
        return
    started = time.monotonic()
    agent = _wait_final(ctx.url, agent_id, token)
    latest = agent.get("latest_backtest") or {}
    if agent["status"] not in ("backtested", "backtest_failed"):
        print(f"  the backtest did not finish within {WAIT_FOR_BACKTEST_S:.0f}s (agent {agent['status']}); skipping")
        return
    run_id = latest.get("run_id")
    print(f"  automatic backtest {run_id} {latest.get('status')} after {time.monotonic() - started:.1f}s")
    if agent["status"] == "backtest_failed":
        print(f"  error: {latest.get('error')}")
        return
    run = get_json(ctx.url, f"/api/backtests/{run_id}", token=token)
    request = run.get("request") or {}
    print(f"  GET /api/backtests/{run_id}: {','.join(request.get('symbols') or [])} "
          f"{request.get('start')} .. {request.get('end')}, cash {request.get('cash') or 0:,.0f}")
    data = run.get("data") or {}
    if data:
        print(f"  data: {'SYNTHETIC - ' if data.get('synthetic') else ''}{data.get('note')}")
    metrics = run.get("metrics") or latest.get("metrics") or {}
    width = max(len(label) for label, _, _ in SHOWN)
    for label, key, kind in SHOWN:
        print(f"    {label:<{width}}  {_format(metrics.get(key), kind)}")
    chart = Path(ctx.data_dir) / "blobs" / run["chart_key"]  # DirectoryBlobStore: key = relative path
    if not chart.is_file():
        raise RuntimeError(f"the report names chart {run['chart_key']} but {chart} does not exist")
    print(f"  equity chart: {chart} ({chart.stat().st_size:,} bytes)")
    if ctx.notes.get("temporary_data_dir"):
        print("  (the demo's temp data dir is removed at the end: pass --data-dir DIR to keep the chart)")
    ctx.notes["backtest_run"], ctx.notes["chart_path"] = run_id, chart


def _wait_final(url: str, agent_id: str, token: str | None) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_FOR_BACKTEST_S
    shown = None
    while True:
        agent = get_json(url, f"/api/agents/{agent_id}", token=token)
        if agent["status"] != shown:
            shown = agent["status"]
            print(f"  agent status: {shown}", flush=True)
        if shown not in PENDING or time.monotonic() > deadline:
            return agent
        time.sleep(0.5)


def _format(value: Any, kind: str) -> str:
    if value is None:
        return "n/a"  # e.g. no closed trade gives no win rate
    if kind == "pct":
        return f"{value * 100:+.2f}%"
    if kind == "share":
        return f"{value * 100:.2f}%"
    if kind == "int":
        return f"{int(value)}"
    return f"{value:.2f}"
