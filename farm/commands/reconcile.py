"""`farm reconcile <agent_id>`: why did paper trading differ from the backtest host? Decision by decision.

    farm reconcile AGENT_ID [--session SESSION_ID] [--runs BASELINE,COMPARED] [--show 5]
        [--chart PATH] [--json] [--user alice | --token T] [--url http://127.0.0.1:8080]

Replays the agent's paper session (its latest, or `--session`) through the trusted backtest host
over the bars the session received, with the session's cash and broker model, and diffs the two
decision records (POST /api/agents/<id>/paper-trading/reconciliations); `--runs` compares two
of its backtests instead. Prints the summary (decisions compared, identical, diverged by cause,
tracking error, fill slippage per symbol), the first divergences in words, and saves the chart.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from farm.commands._api_jobs import add_caller_arguments, caller_api, save_chart, wait_until_final

NAME = "reconcile"
CAUSE_WORDS = {"data": "the bars differed (missing, late or different)",
               "state": "the portfolio differed already",
               "agent": "same inputs, different decision (nondeterministic agent)",
               "carried": "the agent's own memory, after an earlier divergence",
               "execution": "the same orders filled differently"}


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `reconcile` subcommand."""
    parser = subparsers.add_parser(NAME, help="diff a paper session with its replay, decision by decision",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("agent_id")
    parser.add_argument("--session", default=None, help="the paper session (default: the agent's latest)")
    parser.add_argument("--runs", default=None, help="BASELINE,COMPARED: diff two backtests instead")
    parser.add_argument("--show", type=int, default=5, help="how many divergences to print (default 5)")
    parser.add_argument("--chart", default=None, help="where to save the chart (default farm-reconcile-ID.png)")
    add_caller_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the finished reconciliation as JSON")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Queue the reconciliation, wait, print it in words, save the chart."""
    api = caller_api(args)
    body: dict[str, Any] = {}
    if args.runs:
        body["backtests"] = [r.strip() for r in args.runs.split(",") if r.strip()]
    elif args.session:
        body["session_id"] = args.session
    base = f"/api/agents/{args.agent_id}/paper-trading/reconciliations"
    rid = api.call("POST", base, body)["reconciliation_id"]
    print(f"reconciliation {rid} queued")
    result = wait_until_final(api, f"{base}/{rid}", args.timeout, what=f"reconciliation {rid}")
    if args.json:
        print(json.dumps(result, indent=2))
    if result["status"] != "succeeded":
        print(result.get("error") or "failed", file=sys.stderr)
        return 1
    print("\n".join(describe(result, shown=args.show)))
    save_chart(api, f"{base}/{rid}/chart", args.chart or f"farm-reconcile-{rid}.png")
    return 0


def describe(result: dict[str, Any], *, shown: int = 5) -> list[str]:
    """The summary and the first divergences as lines a person reads."""
    s = result["summary"]
    left, right = s["left"], s["right"]
    lines = [(f"  {left} vs {right}: {s['decisions_compared']} decisions compared, {s['identical']} identical "
              f"({s['identical_pct']}%), {s['diverged']} diverged")]
    for cause, count in s["by_cause"].items():
        if count:
            lines.append(f"    {count:>6} {cause:<9} {CAUSE_WORDS.get(cause, '')}")
    tracking = s.get("tracking") or {}
    if tracking.get("final_left") is not None:
        lines.append(f"  equity: {left} {tracking['final_left']:,.2f}, {right} {tracking['final_right']:,.2f} "
                     f"(gap {tracking['final_gap']:+,.2f}, largest {tracking['max_abs_gap']:,.2f}); "
                     f"tracking error {tracking['tracking_error'] or 0.0:.6f} per decision")
    for symbol, d in (s.get("slippage_bps") or {}).items():
        lines.append(f"  {symbol} fills, {left} vs {right}: {d['count']} fills, median {d['median']:+.1f} bps "
                     f"(p5 {d['p5']:+.1f}, p95 {d['p95']:+.1f})")
    divergences = result.get("first_divergences") or []
    if not divergences:
        lines.append(f"  every decision {right} made matches {left}'s: same bars, orders, fills and portfolio")
    for d in divergences[:shown]:
        point = d["left_point"] if d["left_point"] is not None else d["right_point"]
        lines.append(f"  decision {point} at {d['bar_time'][:16].replace('T', ' ')} [{d['cause']}/{d['kind']}]: "
                     f"{d['detail']}")
    if s["diverged"] > shown:
        lines.append(f"  ... {s['diverged'] - min(shown, len(divergences))} more in the report")
    return lines
