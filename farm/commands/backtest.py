"""`farm backtest <agent_id>`: backtest one of your agents through the API and show the result.

    farm backtest AGENT_ID [--symbols AAPL,MSFT] [--start 2023-01-01] [--end 2025-01-01]
        [--timeframe 1Day] [--cash 25000] [--commission 0.001] [--chart PATH] [--open] [--json]
        [--user alice | --token T] [--url http://127.0.0.1:8080] [--timeout 1800]

Queues the run (POST /api/agents/<id>/backtests), shows its progress while it waits (queued,
running, elapsed), then prints its metrics, says whether its market data is synthetic, and
saves its chart (equity, buy-and-hold benchmark, trade markers, drawdown) as a PNG. `--user`
mints a local token (local stack); otherwise `--token` or FARM_TOKEN is sent. A backtest you
ask for is private: the leaderboard ranks only each agent's standard evaluation.
"""

from __future__ import annotations

import argparse
import json
import sys
import webbrowser
from typing import Any

from farm.commands._api_jobs import add_caller_arguments, caller_api, save_chart, wait_until_final
from shared.domain.money import DEFAULT_CASH

NAME = "backtest"
SHOWN = ("final_value", "total_return", "annual_return", "sharpe", "sortino", "calmar", "max_drawdown",
         "volatility", "trades", "win_rate", "profit_factor", "exposure", "benchmark_return", "decisions")


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `backtest` subcommand."""
    parser = subparsers.add_parser(NAME, help="backtest one of your agents", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("agent_id")
    parser.add_argument("--symbols", default=None, help="comma-separated (default: the platform universe)")
    parser.add_argument("--start", default=None, help="first day, YYYY-MM-DD (default: two years ago)")
    parser.add_argument("--end", default=None, help="day after the last, YYYY-MM-DD (default: today)")
    parser.add_argument("--timeframe", default=None, help="bar timeframe: 1Day (default), 1Hour or 1Min")
    parser.add_argument("--cash", type=float, default=None, help=f"starting cash (default {DEFAULT_CASH:g})")
    parser.add_argument("--commission", type=float, default=None, help="fraction per trade (default 0)")
    parser.add_argument("--chart", default=None, help="where to save the chart PNG (default farm-backtest-RUN.png)")
    parser.add_argument("--open", action="store_true", help="open the chart when done")
    add_caller_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the finished run as JSON")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Queue the run, wait with progress, print metrics and the data label, save the chart."""
    api = caller_api(args)
    body = {k: v for k, v in (("start", args.start), ("end", args.end), ("timeframe", args.timeframe),
                              ("cash", args.cash), ("commission", args.commission)) if v is not None}
    if args.symbols:
        body["symbols"] = [s.strip() for s in args.symbols.split(",") if s.strip()]
    queued = api.call("POST", f"/api/agents/{args.agent_id}/backtests", body)
    run_id = queued["run_id"]
    print(f"backtest {run_id} queued")
    result = wait_until_final(api, f"/api/backtests/{run_id}", args.timeout, what=f"backtest {run_id}")
    if args.json:
        print(json.dumps(result, indent=2))
    request = result.get("request") or {}
    print(f"  {len(request.get('symbols') or [])} symbols {request.get('start')}..{request.get('end')} "
          f"{request.get('timeframe')}, cash {request.get('cash')}, commission {request.get('commission')}")
    print(f"  data: {data_line(result.get('data'))}")
    if result["status"] != "succeeded":
        print(result.get("error") or "failed", file=sys.stderr)
        return 1
    for name in SHOWN:
        value = (result.get("metrics") or {}).get(name)
        print(f"  {name:>17}: {value:.4f}" if isinstance(value, float) else f"  {name:>17}: {value}")
    chart = save_chart(api, f"/api/backtests/{run_id}/chart", args.chart or f"farm-backtest-{run_id}.png")
    if args.open:
        webbrowser.open(chart.as_uri())
    return 0


def data_line(data: dict[str, Any] | None) -> str:
    """The data label as one line; synthetic results say so in capitals."""
    if not data:
        return "unknown"
    return ("SYNTHETIC - " if data.get("synthetic") else "") + str(data.get("note", ""))
