"""The step every owner command on a running paper session shares (stop, pause, resume).

Each loads the caller's agent (the one ownership check), refuses when the agent is not in a state
the command applies to, then moves the agent and its session at the same instant and saves both
in the caller's transaction. Only the allowed states, the refusal, the targets and the session
step differ between the commands.
"""

from __future__ import annotations

from collections.abc import Callable, Container

from shared.domain.agent import Agent
from shared.domain.clock import now_iso
from shared.domain.lifecycle import AgentStatus
from shared.domain.paper_session import PaperSession
from shared.domain.unit_of_work import UnitOfWork
from shared.errors import ConflictError


def move_owned_session(
    uow: UnitOfWork, owner_uid: str, agent_id: str, *, allowed: Container[AgentStatus],
    refusal: Callable[[Agent], ConflictError], to: AgentStatus, reason: str,
    step: Callable[[PaperSession, str], None],
) -> PaperSession:
    """Move the owner's agent `to` a status and its session by `step`; `refusal` when not `allowed`."""
    agent = uow.agents.owned(agent_id, owner_uid)
    if not agent.paper_session or agent.status not in allowed:
        raise refusal(agent)
    session = uow.sessions.require(agent.paper_session)
    at = now_iso()
    agent.move_to(to, at=at, reason=reason)
    step(session, at)
    uow.agents.save(agent)
    uow.sessions.save(session)
    return session
