"""Query-string decoding shared by the FMEL routes: filters, page size, cursor."""

from __future__ import annotations

import flask

from shared.services.fmel_analytics import DEFAULT_PAGE, MAX_PAGE
from shared.services.fmel_queries import DecisionFilter, parse_int, parse_time

MAX_DECISION_POINT = 2**62


def filter_from(request: flask.Request, user_id: str, agent_id: str | None = None) -> DecisionFilter:
    """The caller's decision filter: agent, session, mode, action, since/until, decision range."""
    args = request.args
    return DecisionFilter(
        user_id=user_id,
        agent_id=agent_id if agent_id is not None else (args.get("agent") or None),
        session_id=args.get("session") or None,
        mode=args.get("mode") or None,
        action=(args.get("action") or "").upper() or None,
        since=parse_time(args.get("since"), "since"),
        until=parse_time(args.get("until"), "until"),
        first_decision=parse_int(args.get("from_decision"), "from_decision", low=0, high=MAX_DECISION_POINT),
        last_decision=parse_int(args.get("to_decision"), "to_decision", low=0, high=MAX_DECISION_POINT),
    )


def page_size(request: flask.Request) -> int:
    """`limit`: 1..MAX_PAGE decisions per page."""
    return parse_int(request.args.get("limit"), "limit", low=1, high=MAX_PAGE, default=DEFAULT_PAGE) or DEFAULT_PAGE
