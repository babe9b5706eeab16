"""Pause and resume a paper-trading session (SPEC §5: trading <-> paused).

Pausing stops the agent's runtime gracefully (FMEL flushed, final snapshot published) but keeps
the session, its broker account, its positions and its place among the user's running sessions;
the agent is `paused`. Resuming starts the runtime again on the same session, so its decision
numbering continues where it stopped; the agent is `trading` again. A paused session is never
restarted by `farm up` (its owner asked it to wait).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.domain.clock import now_iso
from shared.domain.lifecycle import AgentStatus
from shared.domain.paper_session import PaperSession
from shared.domain.unit_of_work import UnitOfWork, run_in_transaction
from shared.errors import ConflictError
from shared.ports.documents import DocumentStore
from shared.ports.orchestrator import Orchestrator, RuntimeSpec
from shared.services.paper_runtime import mark_failed
from shared.services.paper_trading import session_view


def pause_paper_trading(
    owner_uid: str, agent_id: str, *, documents: DocumentStore, orchestrator: Orchestrator
) -> dict[str, Any]:
    """Pause the agent's trading session: its runtime stops, the session waits as `paused`."""

    def begin(uow: UnitOfWork) -> str:
        agent = uow.agents.owned(agent_id, owner_uid)
        if not agent.paper_session or agent.status is not AgentStatus.TRADING:
            raise ConflictError(f"only a trading agent can be paused; this one is {agent.status.value}",
                                details={"status": agent.status.value})
        session = uow.sessions.require(agent.paper_session)
        at = now_iso()
        agent.move_to(AgentStatus.PAUSED, at=at, reason="pause requested")
        session.request_pause(at=at)
        uow.agents.save(agent)
        uow.sessions.save(session)
        return session.id

    session_id = run_in_transaction(documents, begin)
    orchestrator.stop(agent_id)
    session = _step(documents, session_id, lambda s, at: s.paused(at=at))
    return session_view(session_id, session.to_document())


def resume_paper_trading(
    owner_uid: str, agent_id: str, *, documents: DocumentStore, orchestrator: Orchestrator,
    spec: RuntimeSpec | None = None,
) -> dict[str, Any]:
    """Resume a paused session: its runtime starts again and continues its decision numbering."""

    def begin(uow: UnitOfWork) -> PaperSession:
        agent = uow.agents.owned(agent_id, owner_uid)
        if not agent.paper_session or agent.status is not AgentStatus.PAUSED:
            raise ConflictError(f"only a paused agent can be resumed; this one is {agent.status.value}",
                                details={"status": agent.status.value})
        session = uow.sessions.require(agent.paper_session)
        at = now_iso()
        agent.move_to(AgentStatus.TRADING, at=at, reason="resume requested")
        session.resume(at=at)
        uow.agents.save(agent)
        uow.sessions.save(session)
        return session

    session = run_in_transaction(documents, begin)
    try:
        orchestrator.start(agent_id, session.id, spec or RuntimeSpec())
    except Exception as exc:
        mark_failed(documents, session.id, reason=f"runtime did not restart: {exc}")
        raise
    return session_view(session.id, session.to_document())


def _step(documents: DocumentStore, session_id: str, step: Callable[[PaperSession, str], None]) -> PaperSession:
    def handle(uow: UnitOfWork) -> PaperSession:
        session = uow.sessions.require(session_id)
        step(session, now_iso())
        uow.sessions.save(session)
        return session

    return run_in_transaction(documents, handle)
