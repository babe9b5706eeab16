"""`farm explain AGENT [--decision N]`: what the agent read, what it did, and what it changed.

    farm explain <agent_id> [--decision N] [--session ID] [--user alice | --token T] [--url URL]

Reads the caller's FMEL records through the API. For decision N (default: the agent's latest
trade, else its latest decision) it answers "why did it buy?" in one screen: the agent's own
note, the indicator values and prices it compared (each with its bar), the orders it placed and
what became of them, the portfolio at that decision and at the next one, and the bars (data
hashes) behind it for audit.
"""

from __future__ import annotations

import argparse
import json
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
        which = f"{point} " if point is not None else ""
        raise NotFoundError(f"no recorded decision {which}for agent {agent_id}")
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
    """One screen on one FMEL record: why (the agent's note), what it compared, what it did and
    what became of it, the portfolio before and after, and the bars behind it for audit."""
    d = decision
    lines = [(f"Decision {d['decision_point']} of {d['mode']} session {d['session_id']} "
              f"(bar {d['bar_time']}, {d['stage']})")]
    note = _note(d.get("note"))
    if note:
        lines.append("Its note: " + ", ".join(f"{k}={v}" for k, v in note.items()))
    compared = _compared(d)
    lines.append("It compared:" if compared else "It read no price or indicator.")
    lines += [f"  {line}" for line in compared]
    lines.append(f"It did: {_did(d)}")
    for order in d.get("actions") or []:
        lines.append(f"  {_order(order)}")
    lines.append("Portfolio before: " + _portfolio(d))
    if after is None:
        lines.append("Portfolio after: (no later decision recorded yet)")
    else:
        change = after["portfolio_value"] - d["portfolio_value"]
        lines.append(f"Portfolio after (decision {after['decision_point']}): {_portfolio(after)}"
                     f"  change {change:+,.2f}")
    accessed = d.get("data_accessed") or []
    if accessed:
        symbols = sorted({a["symbol"] for a in accessed})
        lines.append(f"Bars behind it: {len(accessed)} bar(s) of {len(symbols)} symbol(s) ({', '.join(symbols)}):")
        lines += [f"  {a['symbol']} {a['data_hash']}  {', '.join(a.get('fields') or [])}" for a in accessed[:8]]
        if len(accessed) > 8:
            lines.append(f"  ... {len(accessed) - 8} more (farm explain is a summary; the API has them all)")
    return "\n".join(lines)


def _compared(d: dict[str, Any]) -> list[str]:
    """The values the decision read: its indicators, then prices, each with the bar it belongs to."""
    out = []
    for ind in d.get("indicators") or []:
        name = f"{ind['name']}({ind['params']})" if ind.get("params") else ind["name"]
        line = f".{ind['line']}" if ind.get("line") else ""
        out.append(f"{name}{line} of {ind['input']} = {_value(ind.get('value'))}{_when(ind['index'])}")
    for access in d.get("data_accessed") or []:
        for read in access.get("reads") or []:
            if ":" not in read["field"]:  # an indicator's lineage is shown above, by name
                out.append(f"{access['symbol']} {read['field']} = {_value(read.get('value'))}{_when(read['index'])}")
    return out


def _did(d: dict[str, Any]) -> str:
    actions = d.get("actions") or []
    if not actions:
        return {"INACTIVE": "nothing (still warming up its indicators)", "HOLD": "nothing (held)"}.get(
            d["action"], d["action"])
    filled = [a for a in actions if a["status"] in ("Completed", "Partial")]
    return f"placed {len(actions)} order(s), {len(filled)} filled" if filled else (
        f"placed {len(actions)} order(s), none filled yet" if d["action"] == "TRADED" else
        f"placed {len(actions)} order(s), all refused")


def _order(order: dict[str, Any]) -> str:
    side = "bought" if order["side"] == "buy" else "sold"
    fate = {"Completed": "filled", "Partial": "partly filled", "Margin": "refused: not enough cash",
            "Rejected": "rejected by the broker", "Canceled": "canceled", "Expired": "expired",
            "Accepted": "waiting at the broker", "Submitted": "submitted"}.get(order["status"], order["status"])
    price = f" @ {order['price']:,.2f}" if isinstance(order.get("price"), int | float) else ""
    verb = side if order["status"] in ("Completed", "Partial") else f"to {order['side']}"
    return (f"{verb} {order['size']:g} {order['symbol']}{price} ({order['order_type']}): {fate}"
            f" (order {order['order_id']})")


def _note(text: Any) -> dict[str, Any]:
    try:
        note = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return {}
    return note if isinstance(note, dict) else {}


def _value(value: Any) -> str:
    return f"{value:,.4f}".rstrip("0").rstrip(".") if isinstance(value, int | float) else "?"


def _when(index: int) -> str:
    return " (this bar)" if index == 0 else f" ({-index} bar{'s' if index != -1 else ''} back)"


def _portfolio(d: dict[str, Any]) -> str:
    held = ", ".join(f"{p['symbol']} {p['size']:g} @ {p['price']:,.2f}" for p in d.get("positions") or [] if p["size"])
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
