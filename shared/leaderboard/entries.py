"""Warehouse rows -> public leaderboard entries (never code, code hash, owner uid or email)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared.leaderboard.scoring import MIN_OBSERVATIONS, MIN_TRADES, probabilistic_sharpe
from shared.ports.documents import DocumentStore
from shared.schemas.collections import USERS


class DisplayNames:
    """Owner display names from `users/{uid}.display_name`, else a stable pseudonym.

    The pseudonym is a hash prefix, so a leaderboard never reveals a uid or an email.
    """

    def __init__(self, documents: DocumentStore | None) -> None:
        self._documents = documents
        self._known: dict[str, str] = {}

    def __call__(self, uid: str) -> str:
        if uid not in self._known:
            self._known[uid] = self._lookup(uid) or pseudonym(uid)
        return self._known[uid]

    def _lookup(self, uid: str) -> str | None:
        if self._documents is None:
            return None
        user = self._documents.get(USERS, uid) or {}
        name = user.get("display_name")
        return name.strip()[:80] if isinstance(name, str) and name.strip() else None


def pseudonym(uid: str) -> str:
    """A stable public name for a user with no display name."""
    return "trader-" + hashlib.sha256(uid.encode()).hexdigest()[:8]


def public_entry(row: Mapping[str, Any], rank: int, owner: str, evaluation_id: str | None = None) -> dict[str, Any]:
    """The public form of one ranked row: metrics, the score with its components and, for a
    backtest, the standard evaluation it was ranked on (the page's `evaluation` details it)."""
    as_of = row.get("as_of")
    evaluation = {"evaluation": evaluation_id} if evaluation_id else {}
    return evaluation | {
        "rank": rank,
        "agent_id": row["agent_id"],
        "agent_name": row.get("agent_name") or row["agent_id"],
        "owner": owner,
        "as_of": as_of.isoformat() if isinstance(as_of, datetime) else as_of,
        "metrics": {
            "return": _num(row.get("total_return")),
            "sharpe": _num(row.get("sharpe")),
            "drawdown": _num(row.get("max_drawdown")),
            "win_rate": _num(row.get("win_rate")),
            "trades": row.get("trades"),
        },
        "score": {
            "psr": _num(probabilistic_sharpe(_num(row.get("psr_z")))),
            "z": _num(row.get("psr_z")),
            "sharpe_per_observation": _num(row.get("sharpe_per_obs")),
            "observations": row.get("observations"),
            "eligible": bool(row.get("eligible")),
            "min_trades": MIN_TRADES,
            "min_observations": MIN_OBSERVATIONS,
        },
    }


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
