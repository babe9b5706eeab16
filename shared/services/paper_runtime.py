"""What runtimes and their orchestrators report about a paper session (SPEC §9), as short handlers.

Each handler loads the session (and its agent and the owner's slots when an end may follow),
calls one step of `shared.domain.paper_session.PaperSession`, and commits. The one exception is
`record_runtime_report`, the runtime's frequent heartbeat: a plain update of the fields the
runtime owns (`RUNTIME_FIELDS`), see there why.

The restart budget is decided by the aggregate, so every caller applies the same rule:
`record_runtime_restart` for the local orchestrator's restarts and for the GKE watcher's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shared.domain.agent import Agent
from shared.domain.clock import now_iso
from shared.domain.lifecycle import AgentStatus
from shared.domain.paper_session import RUNTIME_FIELDS, PaperSession, SessionState
from shared.domain.unit_of_work import UnitOfWork, run_in_transaction
from shared.ports.documents import DocumentStore
from shared.schemas.collections import SESSIONS


def mark_trading(documents: DocumentStore, session_id: str, *, account_id: str | None = None, **runtime: Any) -> None:
    """The runtime is up (on `account_id`, refused if not the session's): session and agent `trading`.

    `runtime` holds what it says about itself (`started_at`, `pid`, `health_port`, `broker`).
    Idempotent; a pause or stop asked for meanwhile stays asked.
    """

    def handle(uow: UnitOfWork) -> None:
        session = uow.sessions.require(session_id)
        agent = uow.agents.get(session.agent_id)
        at = now_iso()
        session.runtime_started(at=at, account_id=account_id, **runtime)
        uow.sessions.save(session)
        agent = _own(agent, session)
        if agent is not None and agent.status is AgentStatus.DEPLOYING and session.state is SessionState.TRADING:
            agent.move_to(AgentStatus.TRADING, at=at, reason=session_id)
            uow.agents.save(agent)

    run_in_transaction(documents, handle)


def record_runtime_report(documents: DocumentStore, session_id: str, fields: Mapping[str, Any]) -> None:
    """Write the runtime's own fields (heartbeat, portfolio, counters) on the session document.

    A plain update, not a transaction: it runs every couple of seconds per session, and the
    fields are the runtime's alone (`RUNTIME_FIELDS`); no step of the aggregate writes them.
    """
    unknown = set(fields) - RUNTIME_FIELDS
    if unknown:
        raise ValueError(f"not runtime fields of a session: {sorted(unknown)}")
    documents.update(SESSIONS, session_id, dict(fields))


def mark_runtime_exited(documents: DocumentStore, session_id: str) -> None:
    """The runtime left cleanly: `interrupted` unless its owner asked it to pause or stop."""
    step_session(documents, session_id, lambda session, at: session.runtime_exited(at=at))


def report_runtime_error(documents: DocumentStore, session_id: str, error: str) -> None:
    """Keep what the runtime saw go wrong (the agent's traceback) on the session for its owner."""
    step_session(documents, session_id, lambda session, at: session.report_error(error, at=at))


def record_runtime_restart(documents: DocumentStore, session_id: str, restarts: int, *, reason: str) -> bool:
    """Count an automatic restart; past the budget the session and its agent are `failed`.

    `restarts` is how many times the runtime has been restarted automatically (the local
    orchestrator's count, or the runtime pod's restart count on GKE). Returns True when this
    call failed the session (its slot is released too), False otherwise (also for an unknown
    or already finished session, so a watcher may report the same count again).
    """

    def handle(uow: UnitOfWork) -> bool:
        session = uow.sessions.get(session_id)
        if session is None:
            return False
        agent, slots = uow.agents.get(session.agent_id), uow.sessions.running_sessions(session.owner_uid)
        at = now_iso()
        failed = session.record_restart(restarts, reason=reason, at=at)
        if failed:
            _ended(uow, session, agent, AgentStatus.FAILED, at=at)
            slots.release(session_id)
            uow.sessions.save_running_sessions(slots, at=at)
        uow.sessions.save(session)
        return failed

    return run_in_transaction(documents, handle)


def mark_restarted(documents: DocumentStore, session_id: str, restarts: int, *, reason: str) -> None:
    """Count an automatic restart on the session (the budget rule of `record_runtime_restart`)."""
    record_runtime_restart(documents, session_id, restarts, reason=reason)


def mark_failed(documents: DocumentStore, session_id: str, *, reason: str) -> None:
    """The runtime cannot run (restarts exhausted, or it never started): session and agent `failed`.

    The slot is released. A session its owner paused or stopped meanwhile is left as asked.
    """
    _end(documents, session_id, lambda session, at: session.fail(reason, at=at), AgentStatus.FAILED)


def mark_stopped(documents: DocumentStore, session_id: str, *, exit_code: int | None = None) -> None:
    """The runtime has exited after a stop: session and agent `stopped`, slot released."""
    del exit_code  # the runtime's own exit is on its log; a stopped session is stopped either way
    _end(documents, session_id, lambda session, at: session.stopped(at=at), AgentStatus.STOPPED)


def step_session(documents: DocumentStore, session_id: str,
                 step: Callable[[PaperSession, str], None]) -> PaperSession:
    """Apply one session `step` now, in its own transaction; the session as saved."""

    def handle(uow: UnitOfWork) -> PaperSession:
        session = uow.sessions.require(session_id)
        step(session, now_iso())
        uow.sessions.save(session)
        return session

    return run_in_transaction(documents, handle)


def _end(documents: DocumentStore, session_id: str, step: Callable[[PaperSession, str], bool],
         target: AgentStatus) -> None:
    """Apply an ending `step` (True when it ended the session); then the agent and the slot follow."""

    def handle(uow: UnitOfWork) -> None:
        session = uow.sessions.get(session_id)
        if session is None:
            return
        agent, slots = uow.agents.get(session.agent_id), uow.sessions.running_sessions(session.owner_uid)
        at = now_iso()
        if step(session, at):
            _ended(uow, session, agent, target, at=at)
            uow.sessions.save(session)
        if session.is_finished:  # also repairs a slot an older version left claimed
            slots.release(session_id)
            uow.sessions.save_running_sessions(slots, at=at)

    run_in_transaction(documents, handle)


def _ended(uow: UnitOfWork, session: PaperSession, agent: Agent | None, target: AgentStatus, *, at: str) -> None:
    """Move the session's agent along with it: failed from deploying/trading, stopped from stopping."""
    agent = _own(agent, session)
    if agent is None:
        return
    if target is AgentStatus.FAILED and agent.status in (AgentStatus.DEPLOYING, AgentStatus.TRADING):
        agent.move_to(target, at=at, reason=session.error)
    elif target is AgentStatus.STOPPED and agent.status is AgentStatus.STOPPING:
        agent.move_to(target, at=at)
    else:
        return
    uow.agents.save(agent)


def _own(agent: Agent | None, session: PaperSession) -> Agent | None:
    """`agent` if the session is still its own (a newer session of the same agent supersedes it)."""
    return agent if agent is not None and agent.paper_session == session.id else None
