"""`farm explain AGENT [--decision N]`: what the agent read, what it did, and what it changed.

    farm explain <agent_id> [--decision N] [--session ID] [--user alice | --token T] [--url URL]

Reads the caller's FMEL records through the API. For decision N (default: the agent's latest
trade, else its latest decision) it prints every field read with how many bars back, the
symbols and the data hashes behind them, the orders placed, and the portfolio at that decision
and at the next one (after the orders had their effect).
"""

from __future__ import annotations

import argparse
from typing import Any

from farm.commands._api_client import DEFAULT_URL, get_json, local_token
from shared.errors import NotFoundError

NAME = "explain"
PAGE = 500


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `explain` subcommand to the farm command line."""
    parser = subparsers.add_parser(NAME, help="explain an agent's decision", description=__doc__)
    parser.add_argument("agent_id")
    parser.add_argument("--decision", type=int, default=None, help="decision point (default: latest trade)")
    parser.add_argument("--session", default=None, help="session or backtest run id (default: latest)")
    parser.add_argument("--user", default=None, help="mint a local token for this user")
    parser.add_argument("--token", default=None, help="an ID token (default: --user's local token)")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the API's base URL (default {DEFAULT_URL})")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Fetch the decision and the one after it, then print the explanation."""
    token = args.token or (local_token(args.user) if args.user else None)
    if token is None:
        raise NotFoundError("give --user (local stack) or --token")
    decision, after = find_decision(args.url, token, args.agent_id, args.decision, args.session)
    print(explain(decision, after))
    return 0


def find_decision(
    url: str, token: str, agent_id: str, point: int | None, session: str | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The decision to explain and the session's next decision (None when it is the last)."""
    params: dict[str, Any] = {"agent": agent_id, "session": session, "limit": PAGE}
    if point is not None:
        params |= {"from_decision": point, "to_decision": point + 1}
    rows = _all(url, token, params)
    if not rows:
        raise NotFoundError(f"no recorded decision {point if point is not None else ''} for agent {agent_id}".replace("  ", " "))
    latest_session = rows[-1]["session_id"]
    rows = [r for r in rows if r["session_id"] == latest_session]
    if point is None:
        traded = [r for r in rows if r["action"] == "TRADED"]
        point = (traded or rows)[-1]["decision_point"]
    by_point = {r["decision_point"]: r for r in rows}
    if point not in by_point:
        raise NotFoundError(f"no decision {point} in session {latest_session}")
    return by_point[point], by_point.get(point + 1)


def explain(decision: dict[str, Any], after: dict[str, Any] | None) -> str:
    """A person-readable account of one FMEL record and the state that followed it."""
    d = decision
    reads = sum(len(a.get("reads") or []) for a in d.get("data_accessed") or [])
    lines = [
        (f"Decision {d['decision_point']} of {d['mode']} session {d['session_id']} "
        f"(bar {d['bar_time']}, stage {d['stage']})"),
        f"Read: {reads} values from {len(d.get('data_accessed') or [])} symbol(s)",
    ]
    for access in d.get("data_accessed") or []:
        lines.append(f"  {access['symbol']}  data_hash {access['data_hash']}")
        by_field: dict[str, list[int]] = {}
        for r in access.get("reads") or []:
            by_field.setdefault(r["field"], []).append(-int(r["index"]))
        for field, back in by_field.items():
            ago = ", ".join(str(b) for b in sorted(set(back)))
            lines.append(f"    {field:<10} bars back: {ago}  ({len(back)} reads)")
    lines.append(f"Did: {d['action']}")
    for order in d.get("actions") or []:
        lines.append(f"  {order['side']} {order['size']:g} {order['symbol']} @ {order['price']} "
                     f"({order['order_type']}, {order['status']}, order {order['order_id']})")
    lines.append("Portfolio before: " + _portfolio(d))
    if after is None:
        lines.append("Portfolio after: (no later decision recorded yet)")
    else:
        change = after["portfolio_value"] - d["portfolio_value"]
        lines.append(f"Portfolio after (decision {after['decision_point']}): {_portfolio(after)}  change {change:+,.2f}")
    return "\n".join(lines)


def _portfolio(d: dict[str, Any]) -> str:
    held = ", ".join(f"{p['symbol']} {p['size']:g} @ {p['price']}" for p in d.get("positions") or [] if p["size"])
    return f"value {d['portfolio_value']:,.2f}, cash {d['cash']:,.2f}, positions: {held or 'none'}"


def _all(url: str, token: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        body = get_json(url, "/api/fmel/decisions", params | {"cursor": cursor}, token)
        rows += body["decisions"]
        cursor = body["next_cursor"]
        if cursor is None:
            return rows
