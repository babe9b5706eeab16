"""Paper-trading use cases (SPEC §4, §5, §9): start, stop and show an agent's session.

Start needs a `backtested` (or previously stopped/failed) agent of the caller and a funded
broker account, and takes one of the owner's running-session slots in the transaction that moves
the agent to `deploying` (`shared.domain.running_sessions`). The orchestrator then starts the
runtime, which moves the session and the agent on to `trading`. Stop goes `stopping` -> `stopped`.
Every handler is short: load the agent and its `PaperSession`, call one step, commit; the rules
(legal steps, the account, the restart budget) live in `shared.domain.paper_session`. What runtimes
and orchestrators report is in `shared.services.paper_runtime` (the `mark_*` steps, re-exported).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.domain.agent import Agent
from shared.domain.clock import now_iso, utc_now
from shared.domain.lifecycle import AgentStatus
from shared.domain.paper_session import Desired, PaperSession, topic_for
from shared.domain.running_sessions import MAX_RUNNING_SESSIONS
from shared.domain.timeframe import Timeframe
from shared.domain.unit_of_work import UnitOfWork, run_in_transaction
from shared.errors import ConflictError, InvalidInputError, NotFoundError
from shared.market.universe import DEFAULT_SYMBOLS
from shared.ports.broker import BrokerAccounts
from shared.ports.documents import DocumentStore, Filter
from shared.ports.orchestrator import Orchestrator, RuntimeSpec
from shared.schemas.collections import AGENTS, SESSIONS
from shared.services.market_hours import market_status
from shared.services.market_labels import label, replay_label
from shared.services.paper_runtime import (
    mark_failed,
    mark_restarted,
    mark_stopped,
    mark_trading,
    record_runtime_restart,
)
from shared.services.session_commands import move_owned_session

__all__ = [
    "MAX_RUNNING_SESSIONS", "MAX_SYMBOLS", "StartPaperTrading", "check_streamed", "get_paper_trading", "mark_failed",
    "mark_restarted", "mark_stopped", "mark_trading", "record_runtime_restart", "resume_session", "session_view",
    "sessions_to_resume", "start_paper_trading", "stop_deleted_agent", "stop_paper_trading", "topic_for",
]

MAX_SYMBOLS = 50
STARTABLE = (AgentStatus.BACKTESTED, AgentStatus.STOPPED, AgentStatus.FAILED)
STOPPABLE = (AgentStatus.DEPLOYING, AgentStatus.TRADING, AgentStatus.PAUSED, AgentStatus.FAILED)
SESSION_FIELDS = ("session_id", "agent_id", "state", "symbols", "timeframe", "account_id", "portfolio_value",
                  "cash", "starting_value", "positions", "recent_trades", "trades", "decisions",
                  "last_decision_point", "lost_decisions", "restarts", "last_restart_reason", "heartbeat_at",
                  "started_at", "paused_at", "resumed_at", "stopped_at", "error", "created_at", "updated_at")


@dataclass(frozen=True, kw_only=True)
class StartPaperTrading:
    """Start paper trading one of the caller's agents on `symbols` (default: its backtest's)."""

    owner_uid: str
    agent_id: str
    symbols: Sequence[str] | None = None
    timeframe: str = Timeframe.MINUTE.value


def start_paper_trading(
    cmd: StartPaperTrading, *, documents: DocumentStore, accounts: BrokerAccounts, orchestrator: Orchestrator,
    spec: RuntimeSpec | None = None, universe: Collection[str] | None = None,
) -> dict[str, Any]:
    """Check the preconditions, create the session, move the agent to deploying, start its runtime.

    `universe` is what the market feed streams (shared.services.paper_markets): a symbol outside
    it would never get a bar, so it is refused here rather than left to wait forever.
    """
    timeframe = Timeframe.parse(cmd.timeframe)
    if cmd.symbols is not None and universe is not None:
        check_streamed(_symbols(cmd.symbols, None), universe)
    account = accounts.account_for_agent(cmd.owner_uid, cmd.agent_id)
    session_id = f"ps-{uuid.uuid4().hex[:16]}"

    def start(uow: UnitOfWork) -> dict[str, Any]:
        agent = uow.agents.owned(cmd.agent_id, cmd.owner_uid)
        if agent.status not in STARTABLE:
            raise ConflictError(f"paper trading needs a backtested agent; this one is {agent.status.value}",
                                details={"status": agent.status.value})
        if account is None or not account.funded:
            raise ConflictError("paper trading needs a funded broker account: create and fund one first")
        slots = uow.sessions.running_sessions(cmd.owner_uid)
        slots.claim(session_id)
        symbols = _symbols(cmd.symbols, agent)
        if universe is not None:
            check_streamed(symbols, universe)
        at = now_iso()
        session = PaperSession.open(session_id, owner_uid=cmd.owner_uid, agent_id=cmd.agent_id,
                                    account_id=account.account_id, symbols=symbols, timeframe=timeframe,
                                    starting_value=account.cash, at=at)
        agent.move_to(AgentStatus.DEPLOYING, at=at, reason=session_id)
        agent.paper_session = session_id
        uow.sessions.add(session)
        uow.agents.save(agent)
        uow.sessions.save_running_sessions(slots, at=at)
        return session.to_document()

    session = run_in_transaction(documents, start)
    try:
        orchestrator.start(cmd.agent_id, session_id, spec or RuntimeSpec())
    except Exception as exc:
        mark_failed(documents, session_id, reason=f"runtime did not start: {exc}")
        raise
    return session_view(session_id, session)


def stop_paper_trading(
    owner_uid: str, agent_id: str, *, documents: DocumentStore, orchestrator: Orchestrator
) -> dict[str, Any]:
    """Stop the agent's session: stopping, SIGTERM and wait for the runtime, then stopped."""

    session_id = run_in_transaction(documents, lambda uow: move_owned_session(
        uow, owner_uid, agent_id, allowed=STOPPABLE, to=AgentStatus.STOPPING, reason="stop requested",
        refusal=lambda agent: ConflictError(
            f"agent {agent_id} is not paper trading (status {agent.status.value})"),
        step=lambda session, at: session.request_stop(at=at))).id
    orchestrator.stop(agent_id)
    mark_stopped(documents, session_id)
    return session_view(session_id, documents.get(SESSIONS, session_id) or {})


def stop_deleted_agent(agent_id: str, *, documents: DocumentStore, orchestrator: Orchestrator) -> bool:
    """Stop a soft-deleted agent's runtime and release its slot; False when there was nothing to stop.

    Idempotent (the agents trigger delivers at least once, and every later agent update fires
    it again): a finished session is left alone.
    """

    def begin(uow: UnitOfWork) -> str | None:
        agent = uow.agents.get(agent_id)
        if agent is None or not agent.deleted or not agent.paper_session:
            return None
        session = uow.sessions.get(agent.paper_session)
        if session is None or session.is_finished:
            return None
        at = now_iso()
        if agent.status in STOPPABLE:
            agent.move_to(AgentStatus.STOPPING, at=at, reason="agent deleted")
            uow.agents.save(agent)
        session.request_stop(at=at)
        uow.sessions.save(session)
        return session.id

    session_id = run_in_transaction(documents, begin)
    if session_id is None:
        return False
    orchestrator.stop(agent_id)
    mark_stopped(documents, session_id)
    return True


def get_paper_trading(
    owner_uid: str, agent_id: str, *, documents: DocumentStore, replay: bool | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The agent's latest session: state, value, positions, recent trades, heartbeat and its age.

    With `replay` known (True for the local replayed market, False for the exchange's), the view
    also says whether the market is open, when the next bar is due, and where the data comes from.
    """

    def load(uow: UnitOfWork) -> PaperSession:
        agent = uow.agents.owned(agent_id, owner_uid)
        session = uow.sessions.get(agent.paper_session) if agent.paper_session else None
        if session is None:
            raise NotFoundError(f"agent {agent_id} has no paper-trading session")
        return session

    session = run_in_transaction(documents, load)
    now = now or utc_now()
    view = session_view(session.id, session.to_document(), now=now)
    if replay is not None:
        view["market"] = market_status(session.symbols, session.timeframe.value, now, replay=replay)
        view["data"] = replay_label() if replay else label(sorted({"alpaca"}))
    return view


def sessions_to_resume(documents: DocumentStore) -> list[tuple[str, dict[str, Any]]]:
    """Sessions that should be trading but whose runtime is gone, for a local stack to restart.

    Their owner never asked them to stop (`desired` is still running), they are live (deploying,
    trading or interrupted) and the agent still points at them, deploying or trading. Only a
    supervisor that knows its runtimes died with it may call this: on GKE the StatefulSets outlive
    any function instance.
    """
    resumable = []
    for session_id, document in documents.query(SESSIONS, [Filter("desired", "==", Desired.RUNNING.value)]):
        session = PaperSession(session_id, document)
        if not session.is_live:
            continue
        agent_doc = documents.get(AGENTS, session.agent_id)
        agent = Agent.from_document(session.agent_id, agent_doc) if agent_doc else None
        if agent is None or agent.paper_session != session_id:
            continue
        if agent.status in (AgentStatus.DEPLOYING, AgentStatus.TRADING):
            resumable.append((session_id, document))
    return resumable


def resume_session(
    session_id: str, session: dict[str, Any], *, documents: DocumentStore, orchestrator: Orchestrator,
    spec: RuntimeSpec | None = None,
) -> None:
    """Start the runtime of an interrupted session again; it continues its decision numbering."""

    def redeploy(uow: UnitOfWork) -> str:
        found = uow.sessions.require(session_id)
        found.redeploy(at=now_iso())
        uow.sessions.save(found)
        return found.agent_id

    agent_id = run_in_transaction(documents, redeploy)
    try:
        orchestrator.start(agent_id, session_id, spec or RuntimeSpec())
    except Exception as exc:
        mark_failed(documents, session_id, reason=f"runtime did not restart: {exc}")
        raise


def session_view(session_id: str, session: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """The session as the API shows it, with how long ago its runtime last reported.

    `heartbeat_age_s` is null until the runtime first reports; `runtime` is `starting`, `running`,
    `unresponsive` (trading but silent longer than `HEARTBEAT_STALE_S`) or `none`.
    """
    view = {k: v for k, v in ({"session_id": session_id} | session).items() if k in SESSION_FIELDS}
    if session.get("state"):
        aggregate, now = PaperSession(session_id, session), now or datetime.now(UTC)
        age = aggregate.heartbeat_age_s(now)
        view["heartbeat_age_s"] = None if age is None else round(age, 1)
        view["runtime"] = aggregate.runtime_health(now)
    return view


def check_streamed(symbols: Sequence[str], universe: Collection[str]) -> None:
    """Refuse symbols the market feed does not stream (they would never get a bar)."""
    missing = [s for s in symbols if s not in universe]
    if missing:
        raise InvalidInputError(
            f"no market data is streamed for {', '.join(missing)}: paper trading can use "
            f"{', '.join(sorted(universe))} (the platform universe, settings/universe)",
            details={"unstreamed": missing, "streamed": sorted(universe)},
        )


def _symbols(requested: Sequence[str] | None, agent: Agent | None) -> list[str]:
    if requested is None:
        requested = ((agent.latest_backtest if agent else None) or {}).get("symbols") or list(DEFAULT_SYMBOLS)
    if (isinstance(requested, str) or not requested or len(requested) > MAX_SYMBOLS
            or not all(isinstance(s, str) and s.strip() for s in requested)):
        raise InvalidInputError(f"symbols must be a list of 1 to {MAX_SYMBOLS} symbol names")
    return sorted({s.strip().upper() for s in requested})
