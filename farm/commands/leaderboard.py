"""`farm leaderboard`: print the public ranking from a running stack (or a deployed API).

    farm leaderboard [--mode backtest|paper] [--metric score|sharpe|return|drawdown|win_rate]
                     [--period 7d|30d|90d|all] [--limit 20] [--url http://127.0.0.1:8080] [--json]
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from farm.commands._api_client import DEFAULT_URL, get_json

NAME = "leaderboard"


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `leaderboard` subcommand to the farm command line."""
    parser = subparsers.add_parser(NAME, help="print the leaderboard", description=__doc__)
    parser.add_argument("--mode", default="backtest", choices=("backtest", "paper"))
    parser.add_argument("--metric", default="score", choices=("score", "sharpe", "return", "drawdown", "win_rate"))
    parser.add_argument("--period", default="all", choices=("7d", "30d", "90d", "all"))
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the API's base URL (default {DEFAULT_URL})")
    parser.add_argument("--json", action="store_true", help="print the raw JSON answer")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Fetch and print one leaderboard page."""
    params = {"mode": args.mode, "metric": args.metric, "period": args.period, "limit": args.limit}
    body = get_json(args.url, "/api/leaderboard", params)
    print(json.dumps(body, indent=2) if args.json else render(body))
    return 0


def render(body: dict[str, Any]) -> str:
    """The page as a fixed-width table, with the score's components."""
    lines = [(f"{body['mode']} leaderboard by {body['metric']} over {body['period']} "
             f"({body['total']} ranked, from {body['source']}, as of {body['as_of']})"),
             (f"{'#':>4}  {'agent':<24} {'owner':<16} {'PSR':>6} {'obs':>5} {'trades':>6} "
             f"{'return':>8} {'sharpe':>7} {'drawdown':>8} {'win':>5}")]
    for e in body["entries"]:
        m, s = e["metrics"], e["score"]
        psr = _fmt(s["psr"], "{:.3f}") + ("" if s["eligible"] else "*")
        lines.append(
            f"{e['rank']:>4}  {e['agent_name'][:24]:<24} {e['owner'][:16]:<16} {psr:>6} "
            f"{_fmt(s['observations'], '{}'):>5} {_fmt(m['trades'], '{}'):>6} {_fmt(m['return'], '{:+.1%}'):>8} "
            f"{_fmt(m['sharpe'], '{:.2f}'):>7} {_fmt(m['drawdown'], '{:.1%}'):>8} {_fmt(m['win_rate'], '{:.0%}'):>5}"
        )
    if any(not e["score"]["eligible"] for e in body["entries"]):
        first = body["entries"][0]["score"]
        lines.append(f"* fewer than {first['min_trades']} trades or {first['min_observations']} observations: "
                     "ranked after every eligible agent on the score")
    lines += _footer(body)
    return "\n".join(lines)


def _footer(body: dict[str, Any]) -> list[str]:
    """What the ranking was computed on: the standard evaluation, the data, the paper track record."""
    lines = []
    evaluation = body.get("evaluation")
    if evaluation:
        lines.append(f"standard evaluation {evaluation['evaluation_id']}: {len(evaluation['symbols'])} symbols "
                     f"{evaluation['start']}..{evaluation['end']} {evaluation['timeframe']}, "
                     f"cash {evaluation['cash']:,.0f}, commission {evaluation['commission']:g}"
                     " (the same for every agent)")
    data = body.get("data")
    if data:
        lines.append(("data: SYNTHETIC - " if data.get("synthetic") else "data: ") + data.get("note", ""))
    for pending in body.get("pending") or []:
        lines.append(f"      {pending['agent_name'][:24]:<24} {pending['not_ranked']}")
    return lines


def _fmt(value: Any, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)
