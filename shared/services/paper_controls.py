"""Pause and resume a paper-trading session (SPEC §5: trading <-> paused).

Pausing stops the agent's runtime gracefully (FMEL flushed, final snapshot published) but keeps
the session, its broker account, its positions and its place among the user's running sessions;
the agent is `paused`. Resuming starts the runtime again on the same session, so its decision
numbering continues where it stopped; the agent is `trading` again. A paused session is never
restarted by `farm up` (its owner asked it to wait).
"""

from __future__ import annotations

from typing import Any

from shared.domain.clock import now_iso
from shared.domain.lifecycle import AgentStatus, transition
from shared.errors import ConflictError, NotFoundError
from shared.ports.documents import DocumentStore, Transaction
from shared.ports.orchestrator import Orchestrator, RuntimeSpec
from shared.schemas.collections import AGENTS, SESSIONS
from shared.services.paper_trading import mark_failed, session_view


def pause_paper_trading(
    owner_uid: str, agent_id: str, *, documents: DocumentStore, orchestrator: Orchestrator
) -> dict[str, Any]:
    """Pause the agent's trading session: its runtime stops, the session waits as `paused`."""

    def begin(txn: Transaction) -> str:
        agent = _owned(txn.get(AGENTS, agent_id), owner_uid, agent_id)
        session_id = agent.get("paper_session")
        if not session_id or agent["status"] != AgentStatus.TRADING:
            raise ConflictError(f"only a trading agent can be paused; this one is {agent['status']}",
                                details={"status": agent["status"]})
        at = now_iso()
        txn.update(AGENTS, agent_id, transition(agent, AgentStatus.PAUSED, at=at, reason="pause requested"))
        txn.update(SESSIONS, session_id, {"state": "pausing", "desired": "paused", "updated_at": at})
        return session_id

    session_id = documents.transaction(begin)
    orchestrator.stop(agent_id)
    at = now_iso()
    # The runtime's last report said "interrupted"; the owner asked for a pause.
    documents.update(SESSIONS, session_id, {"state": "paused", "paused_at": at, "updated_at": at})
    return session_view(session_id, documents.get(SESSIONS, session_id) or {})


def resume_paper_trading(
    owner_uid: str, agent_id: str, *, documents: DocumentStore, orchestrator: Orchestrator,
    spec: RuntimeSpec | None = None,
) -> dict[str, Any]:
    """Resume a paused session: its runtime starts again and continues its decision numbering."""

    def begin(txn: Transaction) -> tuple[str, dict[str, Any]]:
        agent = _owned(txn.get(AGENTS, agent_id), owner_uid, agent_id)
        session_id = agent.get("paper_session")
        if not session_id or agent["status"] != AgentStatus.PAUSED:
            raise ConflictError(f"only a paused agent can be resumed; this one is {agent['status']}",
                                details={"status": agent["status"]})
        session = txn.get(SESSIONS, session_id) or {}  # every read before the first write
        at = now_iso()
        txn.update(AGENTS, agent_id, transition(agent, AgentStatus.TRADING, at=at, reason="resume requested"))
        changes = {"state": "deploying", "desired": "running", "resumed_at": at, "updated_at": at}
        txn.update(SESSIONS, session_id, changes)
        return session_id, {**session, **changes}

    session_id, session = documents.transaction(begin)
    try:
        orchestrator.start(agent_id, session_id, spec or RuntimeSpec())
    except Exception as exc:
        mark_failed(documents, session_id, reason=f"runtime did not restart: {exc}")
        raise
    return session_view(session_id, session)


def _owned(agent: dict[str, Any] | None, owner_uid: str, agent_id: str) -> dict[str, Any]:
    if agent is None or agent.get("owner_uid") != owner_uid or agent.get("deleted"):
        raise NotFoundError(f"agent {agent_id} not found")
    return agent
