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
import time
import webbrowser
from pathlib import Path
from typing import Any

from farm.commands._api_client import DEFAULT_URL
from farm.commands.trade import TradeApi
from shared.domain.money import DEFAULT_CASH
from shared.errors import FarmError

NAME = "backtest"
SHOWN = ("final_value", "total_return", "annual_return", "sharpe", "sortino", "calmar", "max_drawdown",
         "volatility", "trades", "win_rate", "profit_factor", "exposure", "benchmark_return", "decisions")
FINAL = ("succeeded", "failed")


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
    parser.add_argument("--user", default=None, help="mint a local token for this user")
    parser.add_argument("--token", default=None, help="an ID token (default: --user's local token, or FARM_TOKEN)")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the API's base URL (default {DEFAULT_URL})")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds to wait for the result")
    parser.add_argument("--json", action="store_true", help="print the finished run as JSON")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Queue the run, wait with progress, print metrics and the data label, save the chart."""
    from farm.commands.submit import _token

    token = args.token or _token(args.user)
    api = TradeApi(args.url, token)
    body = {k: v for k, v in (("start", args.start), ("end", args.end), ("timeframe", args.timeframe),
                              ("cash", args.cash), ("commission", args.commission)) if v is not None}
    if args.symbols:
        body["symbols"] = [s.strip() for s in args.symbols.split(",") if s.strip()]
    queued = api.call("POST", f"/api/agents/{args.agent_id}/backtests", body)
    run_id = queued["run_id"]
    print(f"backtest {run_id} queued")
    result = wait(api, run_id, args.timeout)
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
    chart = Path(args.chart or f"farm-backtest-{run_id}.png")
    chart.write_bytes(download(api, f"/api/backtests/{run_id}/chart"))
    print(f"  chart: {chart.resolve()}")
    if args.open:
        webbrowser.open(chart.resolve().as_uri())
    return 0


def wait(api: TradeApi, run_id: str, timeout_s: float) -> dict[str, Any]:
    """Poll the run until it finishes, printing its status and the time waited."""
    started = time.monotonic()
    status = ""
    while True:
        result = api.call("GET", f"/api/backtests/{run_id}")
        elapsed = time.monotonic() - started
        if result["status"] in FINAL:
            print(f"\r  {result['status']} after {elapsed:.1f}s" + " " * 20, flush=True)
            return result
        if elapsed > timeout_s:
            raise FarmError(f"backtest {run_id} still {result['status']} after {timeout_s:.0f}s")
        if result["status"] != status and status:
            print(flush=True)
        status = result["status"]
        spinner = "|/-\\"[int(elapsed * 4) % 4]
        sys.stdout.write(f"\r  {status} {spinner} {elapsed:5.1f}s")
        sys.stdout.flush()
        time.sleep(0.25)


def data_line(data: dict[str, Any] | None) -> str:
    """The data label as one line; synthetic results say so in capitals."""
    if not data:
        return "unknown"
    return ("SYNTHETIC - " if data.get("synthetic") else "") + str(data.get("note", ""))


def download(api: TradeApi, path: str) -> bytes:
    """GET a binary body with the caller's token."""
    import urllib.request

    request = urllib.request.Request(api.base_url + path, headers={"Authorization": f"Bearer {api.token}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read()
