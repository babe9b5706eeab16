"""A deleted agent leaves every leaderboard at once: recorded in the warehouse, re-ranked now.

The ranking queries leave out every agent in `analytics.agent_deletions`, so a result that
lands after the deletion (its automatic backtest was still running, a runtime's last snapshot)
never ranks; the cached pages are rebuilt at once rather than when they expire.
"""

from __future__ import annotations

import logging
from datetime import datetime

from shared.domain.clock import parse_iso
from shared.leaderboard.scoring import MODES
from shared.schemas.warehouse import AGENT_DELETIONS
from shared.services.leaderboard import Leaderboards, refresh

log = logging.getLogger(__name__)
SEEN_SQL = "SELECT COUNT(*) AS n FROM analytics.agent_deletions WHERE agent_id = @agent_id"


def record_deletion(agent_id: str, owner_uid: str, deleted_at: str, ports: Leaderboards) -> bool:
    """Record the deletion once (idempotent); return whether this call recorded it."""
    seen = ports.warehouse.query(SEEN_SQL, {"agent_id": agent_id})
    if seen and int(seen[0]["n"]) > 0:
        return False
    at: datetime = parse_iso(deleted_at)
    ports.warehouse.insert_rows(AGENT_DELETIONS.ref, [{"agent_id": agent_id, "user_id": owner_uid, "deleted_at": at}])
    return True


def withdraw_agent(agent_id: str, owner_uid: str, deleted_at: str, ports: Leaderboards) -> None:
    """Take a deleted agent off every board: record it, then rebuild the cached rankings."""
    record_deletion(agent_id, owner_uid, deleted_at, ports)
    for mode in MODES:
        refresh(mode, ports)
    log.info("agent %s withdrawn from the leaderboards", agent_id)
