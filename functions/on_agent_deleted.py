"""Firestore trigger: `agents/{id}` updated to soft-deleted -> stop its runtime, release its slot,
and make sure the deletion is recorded for the leaderboards.

Every agent update arrives here; only a deleted agent with a paper session that is still
running does work, so a redelivery or a later update changes nothing. A malformed event is
permanent (logged and acknowledged by the edge); store or orchestrator failures raise, so it is
delivered again.
"""

from __future__ import annotations

import logging

import functions_framework

from functions import _platform
from functions.edge.events import document_change, event_endpoint
from functions.edge.leaderboard_args import leaderboards
from shared.domain.clock import now_iso
from shared.ports.documents import DocumentChange
from shared.schemas.collections import AGENTS
from shared.services.leaderboard_withdrawal import record_deletion
from shared.services.paper_trading import stop_deleted_agent

NAME = "farm-on-agent-deleted"
log = logging.getLogger(__name__)


@functions_framework.cloud_event
@event_endpoint(document_change(AGENTS))
def on_agent_deleted(change: DocumentChange) -> None:
    """Stop the paper-trading runtime of an agent that was just soft-deleted."""
    after = change.after or {}
    if after.get("deleted") and not (change.before or {}).get("deleted"):
        # The DELETE route withdrew it already; this makes sure (idempotent) if that failed.
        record_deletion(change.doc_id, after.get("owner_uid", ""), after.get("deleted_at") or now_iso(),
                        leaderboards())
    if not after.get("deleted") or not after.get("paper_session"):
        return  # the common case: an ordinary update of a live agent
    platform = _platform.platform()
    if stop_deleted_agent(change.doc_id, documents=platform.documents, orchestrator=platform.orchestrator):
        log.info("agent %s deleted: its paper session %s is stopped", change.doc_id, after["paper_session"])
