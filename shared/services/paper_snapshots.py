"""Store paper-trading portfolio snapshots in `analytics.paper_snapshots` (the paper leaderboard's rows)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from shared.errors import InvalidInputError
from shared.ports.warehouse import Warehouse
from shared.schemas.messages import PortfolioSnapshotted
from shared.schemas.warehouse import PAPER_SNAPSHOTS


def record_snapshot(snapshot: PortfolioSnapshotted, *, warehouse: Warehouse) -> bool:
    """Append the snapshot unless this (session, timestamp) is stored already; return whether stored.

    The check makes redelivery change nothing; the ranking query also counts a (session,
    timestamp) pair once, which covers two deliveries racing past the check.
    """
    at = _timestamp(snapshot)
    seen = warehouse.query(
        "SELECT COUNT(*) AS n FROM analytics.paper_snapshots WHERE session_id = @session_id AND timestamp = @at",
        {"session_id": snapshot.session_id, "at": at},
    )
    if seen and int(seen[0]["n"]) > 0:
        return False
    warehouse.insert_rows(PAPER_SNAPSHOTS.ref, [_row(snapshot, at)])
    return True


def record_snapshots(snapshots: Sequence[PortfolioSnapshotted], *, warehouse: Warehouse) -> int:
    """Append a batch (a runtime's, one session at a time) in one insert, skipping stored ones; return how many.

    One query per session finds what is stored already (the performance-updates function may
    have written some of them), so the batch and the function never store a snapshot twice.
    """
    rows: list[dict[str, Any]] = []
    by_session: dict[str, list[tuple[datetime, PortfolioSnapshotted]]] = {}
    for snapshot in snapshots:
        by_session.setdefault(snapshot.session_id, []).append((_timestamp(snapshot), snapshot))
    for session_id, batch in by_session.items():
        stored = warehouse.query(
            "SELECT timestamp FROM analytics.paper_snapshots WHERE session_id = @session_id AND timestamp >= @first",
            {"session_id": session_id, "first": min(at for at, _ in batch)},
        )
        seen = {_utc(r["timestamp"]) for r in stored}
        for at, snapshot in batch:
            if at not in seen:
                seen.add(at)
                rows.append(_row(snapshot, at))
    if rows:
        warehouse.insert_rows(PAPER_SNAPSHOTS.ref, rows)
    return len(rows)


def _timestamp(snapshot: PortfolioSnapshotted) -> datetime:
    try:
        at = datetime.fromisoformat(snapshot.timestamp)
    except ValueError:
        raise InvalidInputError(f"snapshot timestamp {snapshot.timestamp!r} is not ISO 8601") from None
    return _utc(at)


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


def _row(snapshot: PortfolioSnapshotted, at: datetime) -> dict[str, Any]:
    positions = [
        {k: p.get(k) for k in ("symbol", "size", "price", "value")} for p in snapshot.positions if isinstance(p, dict)
    ]
    return {
        "session_id": snapshot.session_id, "agent_id": snapshot.agent_id, "user_id": snapshot.owner_uid,
        "timestamp": at, "portfolio_value": snapshot.portfolio_value, "cash": snapshot.cash,
        "starting_value": snapshot.starting_value, "trades": snapshot.trades, "positions": positions,
    }
