"""The FMEL decision row (`fmel.decisions`, SPEC §10) and its JSON-lines encoding."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from shared.schemas.warehouse import DECISIONS

Stage = Literal["prenext", "nextstart", "next"]
Action = Literal["TRADED", "HOLD", "INACTIVE"]
Mode = Literal["backtest", "paper"]
TABLE = DECISIONS.ref
_TIMESTAMPS = tuple(c.name for c in DECISIONS.columns if c.type == "TIMESTAMP")


def decision_id(session_id: str, decision_point: int) -> str:
    """Return the deterministic id of a decision, so replaying a session writes the same ids."""
    return f"{session_id}:{decision_point:08d}"


def decision_ids(session_id: str) -> Callable[[int], str]:
    """Return `decision_id` for one session as a function of the point, for a per-decision loop.

    It is the same text from a %-template built once: the session is escaped, and `%08d` pads
    an int exactly as the `08d` format spec does (sign first). No Python frame per call.
    """
    return (f"{session_id}".replace("%", "%%") + ":%08d").__mod__


def action_for(stage: str, placed_orders: int) -> Action:
    """Classify a decision: warm-up is INACTIVE, else TRADED when it placed orders, else HOLD."""
    if stage == "prenext":
        return "INACTIVE"
    return "TRADED" if placed_orders else "HOLD"


def row_to_json(row: dict[str, Any]) -> str:
    """Encode a decision row as one JSON line (timestamps as ISO 8601 UTC)."""
    return json.dumps({k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()})


def row_from_json(line: str) -> dict[str, Any]:
    """Decode a line written by `row_to_json`, restoring timestamps to aware datetimes."""
    row = json.loads(line)
    for name in _TIMESTAMPS:
        value = row.get(name)
        if isinstance(value, str):
            stamp = datetime.fromisoformat(value)
            row[name] = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    return row
