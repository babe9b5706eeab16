"""Pause and resume a paper-trading session (SPEC §5: trading <-> paused).

Pausing stops the agent's runtime gracefully (FMEL flushed, final snapshot published) but keeps
the session, its broker account, its positions and its place among the user's running sessions;
the agent is `paused`. Resuming starts the runtime again on the same session, so its decision
numbering continues where it stopped; the agent is `trading` again. A paused session is never
restarted by `farm up` (its owner asked it to wait).
"""

from __future__ import annotations

from typing import Any

from shared.domain.agent import Agent
from shared.domain.lifecycle import AgentStatus
from shared.domain.unit_of_work import run_in_transaction
from shared.errors import ConflictError
from shared.ports.documents import DocumentStore
from shared.ports.orchestrator import Orchestrator, RuntimeSpec
from shared.services.paper_runtime import mark_failed, step_session
from shared.services.paper_trading import session_view
from shared.services.session_commands import move_owned_session


def pause_paper_trading(
    owner_uid: str, agent_id: str, *, documents: DocumentStore, orchestrator: Orchestrator
) -> dict[str, Any]:
    """Pause the agent's trading session: its runtime stops, the session waits as `paused`."""

    session_id = run_in_transaction(documents, lambda uow: move_owned_session(
        uow, owner_uid, agent_id, allowed=(AgentStatus.TRADING,), to=AgentStatus.PAUSED, reason="pause requested",
        refusal=lambda agent: _refusal(agent, "only a trading agent can be paused"),
        step=lambda session, at: session.request_pause(at=at))).id
    orchestrator.stop(agent_id)
    session = step_session(documents, session_id, lambda s, at: s.paused(at=at))
    return session_view(session_id, session.to_document())


def resume_paper_trading(
    owner_uid: str, agent_id: str, *, documents: DocumentStore, orchestrator: Orchestrator,
    spec: RuntimeSpec | None = None,
) -> dict[str, Any]:
    """Resume a paused session: its runtime starts again and continues its decision numbering."""

    session = run_in_transaction(documents, lambda uow: move_owned_session(
        uow, owner_uid, agent_id, allowed=(AgentStatus.PAUSED,), to=AgentStatus.TRADING, reason="resume requested",
        refusal=lambda agent: _refusal(agent, "only a paused agent can be resumed"),
        step=lambda session, at: session.resume(at=at)))
    try:
        orchestrator.start(agent_id, session.id, spec or RuntimeSpec())
    except Exception as exc:
        mark_failed(documents, session.id, reason=f"runtime did not restart: {exc}")
        raise
    return session_view(session.id, session.to_document())


def _refusal(agent: Agent, rule: str) -> ConflictError:
    return ConflictError(f"{rule}; this one is {agent.status.value}", details={"status": agent.status.value})
