"""FMEL decision filters -> one parameterised WHERE clause (never a value in the SQL text).

The filter set is fixed; each filter adds a clause with its own named parameter, so a hostile
value is only ever data. Decisions page in (bar_time, decision_id) order with an opaque cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.errors import InvalidInputError

MODES = ("backtest", "paper")
ACTIONS = ("TRADED", "HOLD", "INACTIVE")


@dataclass(frozen=True, kw_only=True)
class DecisionFilter:
    """Which of one user's decisions to read."""

    user_id: str
    agent_id: str | None = None
    session_id: str | None = None
    mode: str | None = None
    action: str | None = None
    since: datetime | None = None  # bar_time >= since
    until: datetime | None = None  # bar_time < until
    first_decision: int | None = None  # decision_point >= first_decision
    last_decision: int | None = None  # decision_point <= last_decision

    def __post_init__(self) -> None:
        if self.mode is not None and self.mode not in MODES:
            raise InvalidInputError(f"mode must be one of {', '.join(MODES)}")
        if self.action is not None and self.action not in ACTIONS:
            raise InvalidInputError(f"action must be one of {', '.join(ACTIONS)}")
        if self.since and self.until and self.since >= self.until:
            raise InvalidInputError("since must be before until")

    def where(self, alias: str = "") -> tuple[str, dict[str, Any]]:
        """The WHERE clause text (columns prefixed with `alias.` when given) and its parameters."""
        prefix = f"{alias}." if alias else ""
        clauses = [f"{prefix}user_id = @user_id"]
        params: dict[str, Any] = {"user_id": self.user_id}
        for column, op, name, value in (
            ("agent_id", "=", "agent_id", self.agent_id),
            ("session_id", "=", "session_id", self.session_id),
            ("mode", "=", "mode", self.mode),
            ("action", "=", "action", self.action),
            ("bar_time", ">=", "since", self.since),
            ("bar_time", "<", "until", self.until),
            ("decision_point", ">=", "first_decision", self.first_decision),
            ("decision_point", "<=", "last_decision", self.last_decision),
        ):
            if value is not None:
                clauses.append(f"{prefix}{column} {op} @{name}")
                params[name] = value
        return " AND ".join(clauses), params


def parse_time(raw: str | None, name: str) -> datetime | None:
    """An ISO 8601 instant from a query string (UTC when no offset); 400 when malformed."""
    if raw is None or raw == "":
        return None
    try:
        stamp = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInputError(f"{name} must be an ISO 8601 time, e.g. 2024-01-31T00:00:00Z") from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def parse_int(raw: str | None, name: str, *, low: int, high: int, default: int | None = None) -> int | None:
    """An integer query parameter within [low, high]; 400 otherwise."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInputError(f"{name} must be an integer from {low} to {high}") from None
    if not low <= value <= high:
        raise InvalidInputError(f"{name} must be an integer from {low} to {high}; got {value}")
    return value


def encode_cursor(bar_time: datetime, decision_id: str) -> str:
    """The opaque token that resumes a listing after (bar_time, decision_id)."""
    raw = json.dumps([bar_time.isoformat(), decision_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[datetime, str]:
    """Undo `encode_cursor`; 400 for anything it did not produce."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        stamp, decision_id = json.loads(raw)
        when = datetime.fromisoformat(stamp)
        if not isinstance(decision_id, str):
            raise TypeError("decision id")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInputError("cursor is not one this API returned") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)), decision_id
