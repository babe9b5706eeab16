"""`farm backtest <agent_id>`: run a backtest of a stored agent now and show its metrics and chart.

    farm backtest AGENT_ID [--symbols AAPL,MSFT] [--start 2023-01-01] [--end 2025-01-01] [--open]

Queues the run like POST /api/agents/<id>/backtests, runs the job through the platform's job
launcher (a sandboxed subprocess locally) and waits for its result, printing progress. Bars
must already be in market_data.bars (`farm data synth`).
"""

from __future__ import annotations

import argparse
import sys
import time
import webbrowser
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.bootstrap import Platform

NAME = "backtest"
SHOWN = ("final_value", "total_return", "annual_return", "sharpe", "sortino", "calmar", "max_drawdown",
         "volatility", "trades", "win_rate", "profit_factor", "exposure", "benchmark_return", "decisions")


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `backtest` subcommand."""
    parser = subparsers.add_parser(NAME, help="backtest a stored agent", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("agent_id")
    parser.add_argument("--symbols", default=None, help="comma-separated (default: the platform universe)")
    parser.add_argument("--start", default=None)
    parser.add_argument("--end", default=None)
    parser.add_argument("--open", action="store_true", help="open the chart when done")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Queue, launch, wait, and print the result."""
    from shared.bootstrap import bootstrap, job_launcher
    from shared.schemas.collections import AGENTS, BACKTESTS
    from shared.schemas.messages import RunBacktest
    from shared.services import backtests

    platform = bootstrap()
    agent = platform.documents.get(AGENTS, args.agent_id)
    if agent is None:
        print(f"farm backtest: no agent {args.agent_id!r}", file=sys.stderr)
        return 2
    body = {k: v for k, v in (("start", args.start), ("end", args.end)) if v}
    if args.symbols:
        body["symbols"] = [s.strip() for s in args.symbols.split(",") if s.strip()]
    queued = backtests.request_backtest(agent["owner_uid"], args.agent_id, body,
                                        documents=platform.documents, messages=platform.messages)
    run_id = queued["run_id"]
    run = RunBacktest(**platform.documents.get(BACKTESTS, run_id)["request"])
    handle = backtests.launch_backtest(run, documents=platform.documents, messages=platform.messages,
                                       launcher=job_launcher(platform))
    print(f"backtest {run_id}: {len(run.symbols)} symbols {run.start}..{run.end} (job {handle and handle.job_id})")
    started = time.monotonic()
    doc = platform.documents.get(BACKTESTS, run_id)
    while doc["status"] not in backtests.FINAL:
        # The result arrives on backtest-results; record it here when no `farm up` is consuming it.
        _record_pending(platform, run_id)
        sys.stdout.write(f"\r  running {_spinner(started)} {time.monotonic() - started:5.1f}s")
        sys.stdout.flush()
        time.sleep(0.25)
        doc = platform.documents.get(BACKTESTS, run_id)
    print(f"\r  {doc['status']} in {time.monotonic() - started:.1f}s" + " " * 20)
    if doc["status"] != "succeeded":
        print(doc.get("error") or "failed", file=sys.stderr)
        return 1
    for name in SHOWN:
        value = (doc.get("metrics") or {}).get(name)
        print(f"  {name:>17}: {value:.4f}" if isinstance(value, float) else f"  {name:>17}: {value}")
    chart = platform.settings.data_dir / "blobs" / "backtests" / run_id / "equity.png"
    print(f"  chart: {chart.resolve() if chart.exists() else 'backtests/' + run_id + '/equity.png (blob)'}")
    if args.open and chart.exists():
        webbrowser.open(chart.resolve().as_uri())
    return 0


def _record_pending(platform: Platform, run_id: str) -> None:
    from shared.schemas.messages import BacktestCompleted
    from shared.services.backtests import record_backtest_result

    subscription = "farm-cli-backtest-results"
    platform.messages.create_subscription(subscription, BacktestCompleted.TOPIC)
    for message in platform.messages.pull(subscription, max_messages=10):
        event = BacktestCompleted.decode(message.data)
        if event.run_id == run_id:
            record_backtest_result(event, documents=platform.documents)
        platform.messages.ack(subscription, [message.ack_id])


def _spinner(started: float) -> str:
    return "|/-\\"[int((time.monotonic() - started) * 4) % 4]
