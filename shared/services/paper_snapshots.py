"""Store paper-trading portfolio snapshots in `analytics.paper_snapshots` (the paper leaderboard's rows)."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.errors import InvalidInputError
from shared.ports.warehouse import Warehouse
from shared.schemas.messages import PortfolioSnapshotted
from shared.schemas.warehouse import PAPER_SNAPSHOTS


def record_snapshot(snapshot: PortfolioSnapshotted, *, warehouse: Warehouse) -> bool:
    """Append the snapshot unless this (session, timestamp) is stored already; return whether stored.

    The check makes redelivery change nothing; the ranking query also counts a (session,
    timestamp) pair once, which covers two deliveries racing past the check.
    """
    try:
        at = datetime.fromisoformat(snapshot.timestamp)
    except ValueError:
        raise InvalidInputError(f"snapshot timestamp {snapshot.timestamp!r} is not ISO 8601") from None
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    seen = warehouse.query(
        "SELECT COUNT(*) AS n FROM analytics.paper_snapshots WHERE session_id = @session_id AND timestamp = @at",
        {"session_id": snapshot.session_id, "at": at},
    )
    if seen and int(seen[0]["n"]) > 0:
        return False
    positions = [
        {k: p.get(k) for k in ("symbol", "size", "price", "value")} for p in snapshot.positions if isinstance(p, dict)
    ]
    warehouse.insert_rows(PAPER_SNAPSHOTS.ref, [{
        "session_id": snapshot.session_id, "agent_id": snapshot.agent_id, "user_id": snapshot.owner_uid,
        "timestamp": at, "portfolio_value": snapshot.portfolio_value, "cash": snapshot.cash,
        "starting_value": snapshot.starting_value, "trades": snapshot.trades, "positions": positions,
    }])
    return True
