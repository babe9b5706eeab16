"""Paper-trading use cases (SPEC §4, §5, §9): start, stop and show an agent's session.

Start needs a `backtested` (or previously stopped/failed) agent of the caller and a funded
broker account; a user has at most `MAX_RUNNING_SESSIONS` running sessions, counted on
`users/{uid}.running_sessions` inside the same transaction that moves the agent to `deploying`
(so two concurrent starts cannot both take the last slot). The orchestrator then starts the
runtime, which moves the agent on to `trading`. Stop goes `stopping` -> `stopped`.
The `mark_*` functions are the lifecycle steps the runtime and the orchestrator report.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.domain.clock import now_iso
from shared.domain.lifecycle import AgentStatus, transition
from shared.errors import ConflictError, InvalidInputError, NotFoundError
from shared.market.universe import DEFAULT_SYMBOLS
from shared.ports.broker import BrokerAccounts
from shared.ports.documents import DocumentStore, Filter, Transaction
from shared.ports.orchestrator import Orchestrator, RuntimeSpec
from shared.schemas.collections import AGENTS, SESSIONS, USERS
from shared.schemas.topics import CRYPTO_DATA, MARKET_DATA
from shared.services.market_hours import market_status
from shared.services.market_labels import label, replay_label

MAX_RUNNING_SESSIONS = 10
MAX_RUNS = 1000  # runtime runs remembered per session (restarts, pauses)
MAX_SYMBOLS = 50
TIMEFRAMES = ("1Min", "5Min", "15Min", "1Hour", "1Day")
STARTABLE = (AgentStatus.BACKTESTED, AgentStatus.STOPPED, AgentStatus.FAILED)
# A session in one of these states with `desired` running has lost its runtime if none runs.
RESUMABLE_STATES = ("deploying", "trading", "interrupted")
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
    timeframe: str = "1Min"


def topic_for(symbol: str) -> str:
    """The market topic a symbol's bars arrive on (crypto pairs are written `BTC/USD`)."""
    return CRYPTO_DATA if "/" in symbol else MARKET_DATA


def start_paper_trading(
    cmd: StartPaperTrading, *, documents: DocumentStore, accounts: BrokerAccounts, orchestrator: Orchestrator,
    spec: RuntimeSpec | None = None, universe: Collection[str] | None = None,
) -> dict[str, Any]:
    """Check the preconditions, create the session, move the agent to deploying, start its runtime.

    `universe` is what the market feed streams (shared.services.paper_markets): a symbol outside
    it would never get a bar, so it is refused here rather than left to wait forever.
    """
    if cmd.timeframe not in TIMEFRAMES:
        raise InvalidInputError(f"timeframe must be one of {TIMEFRAMES}, got {cmd.timeframe!r}")
    if cmd.symbols is not None and universe is not None:
        check_streamed(_symbols(cmd.symbols, {}), universe)
    account = accounts.account_for_agent(cmd.owner_uid, cmd.agent_id)
    session_id = f"ps-{uuid.uuid4().hex[:16]}"

    def start(txn: Transaction) -> dict[str, Any]:
        agent = _owned(txn.get(AGENTS, cmd.agent_id), cmd.owner_uid, cmd.agent_id)
        if agent["status"] not in STARTABLE:
            raise ConflictError(
                f"paper trading needs a backtested agent; this one is {agent['status']}",
                details={"status": agent["status"]},
            )
        if account is None or not account.funded:
            raise ConflictError("paper trading needs a funded broker account: create and fund one first")
        user = txn.get(USERS, cmd.owner_uid)
        running = list((user or {}).get("running_sessions", []))
        if len(running) >= MAX_RUNNING_SESSIONS:
            raise ConflictError(
                f"at most {MAX_RUNNING_SESSIONS} paper sessions may run at once; stop one first",
                details={"running_sessions": len(running)},
            )
        symbols = _symbols(cmd.symbols, agent)
        if universe is not None:
            check_streamed(symbols, universe)
        at = now_iso()
        session = {
            "owner_uid": cmd.owner_uid, "agent_id": cmd.agent_id, "account_id": account.account_id,
            "symbols": symbols, "timeframe": cmd.timeframe, "topics": sorted({topic_for(s) for s in symbols}),
            "state": "deploying", "desired": "running", "starting_value": account.cash,
            "portfolio_value": account.cash, "cash": account.cash, "positions": [], "recent_trades": [],
            "trades": 0, "decisions": 0, "last_decision_point": 0, "lost_decisions": 0, "fmel_gaps": [],
            "restarts": 0, "heartbeat_at": None, "started_at": None, "stopped_at": None, "error": None,
            "created_at": at, "updated_at": at,
        }
        txn.create(SESSIONS, session_id, session)
        changes = transition(agent, AgentStatus.DEPLOYING, at=at, reason=session_id)
        txn.update(AGENTS, cmd.agent_id, changes | {"paper_session": session_id})
        user_changes = {"running_sessions": [*running, session_id], "updated_at": at}
        if user is None:
            txn.create(USERS, cmd.owner_uid, {"owner_uid": cmd.owner_uid, "created_at": at, **user_changes})
        else:
            txn.update(USERS, cmd.owner_uid, user_changes)
        return session

    session = documents.transaction(start)
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

    def begin(txn: Transaction) -> str:
        agent = _owned(txn.get(AGENTS, agent_id), owner_uid, agent_id)
        session_id = agent.get("paper_session")
        if not session_id or agent["status"] not in (AgentStatus.DEPLOYING, AgentStatus.TRADING,
                                                     AgentStatus.PAUSED, AgentStatus.FAILED):
            raise ConflictError(f"agent {agent_id} is not paper trading (status {agent['status']})")
        at = now_iso()
        txn.update(AGENTS, agent_id, transition(agent, AgentStatus.STOPPING, at=at, reason="stop requested"))
        txn.update(SESSIONS, session_id, {"state": "stopping", "desired": "stopped", "updated_at": at})
        return session_id

    session_id = documents.transaction(begin)
    orchestrator.stop(agent_id)
    mark_stopped(documents, session_id)
    return session_view(session_id, documents.get(SESSIONS, session_id) or {})


def stop_deleted_agent(agent_id: str, *, documents: DocumentStore, orchestrator: Orchestrator) -> bool:
    """Stop a soft-deleted agent's runtime and release its slot; False when there was nothing to stop.

    Idempotent (the agents trigger delivers at least once, and every later agent update fires
    it again): a finished session is left alone.
    """

    def begin(txn: Transaction) -> str | None:
        agent = txn.get(AGENTS, agent_id)
        session_id = (agent or {}).get("paper_session")
        if agent is None or not agent.get("deleted") or not session_id:
            return None
        session = txn.get(SESSIONS, session_id)
        if session is None or session.get("state") in ("stopped", "failed"):
            return None
        at = now_iso()
        if agent["status"] in (AgentStatus.DEPLOYING, AgentStatus.TRADING, AgentStatus.PAUSED, AgentStatus.FAILED):
            txn.update(AGENTS, agent_id, transition(agent, AgentStatus.STOPPING, at=at, reason="agent deleted"))
        txn.update(SESSIONS, session_id, {"state": "stopping", "desired": "stopped", "updated_at": at})
        return session_id

    session_id = documents.transaction(begin)
    if session_id is None:
        return False
    orchestrator.stop(agent_id)
    mark_stopped(documents, session_id)
    return True


def get_paper_trading(
    owner_uid: str, agent_id: str, *, documents: DocumentStore, replay: bool | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The agent's latest session: state, value, positions, recent trades, heartbeat.

    With `replay` known (True for the local replayed market, False for the exchange's), the view
    also says whether the market is open, when the next bar is due, and where the data comes from.
    """
    agent = _owned(documents.get(AGENTS, agent_id), owner_uid, agent_id)
    session_id = agent.get("paper_session")
    session = documents.get(SESSIONS, session_id) if session_id else None
    if session is None:
        raise NotFoundError(f"agent {agent_id} has no paper-trading session")
    view = session_view(session_id, session)
    if replay is not None:
        view["market"] = market_status(session.get("symbols") or [], session.get("timeframe") or "1Min",
                                       now or datetime.now(UTC), replay=replay)
        view["data"] = replay_label() if replay else label(sorted({"alpaca"}))
    return view


def sessions_to_resume(documents: DocumentStore) -> list[tuple[str, dict[str, Any]]]:
    """Sessions that should be trading but whose runtime is gone, for a local stack to restart.

    Their owner never asked them to stop (`desired` is still running) and the agent still points
    at them, deploying or trading. Only a supervisor that knows its runtimes died with it may
    call this: on GKE the StatefulSets outlive any function instance.
    """
    resumable = []
    for session_id, session in documents.query(SESSIONS, [Filter("desired", "==", "running")]):
        if session.get("state") not in RESUMABLE_STATES:
            continue
        agent = documents.get(AGENTS, session["agent_id"])
        if agent is None or agent.get("paper_session") != session_id:
            continue
        if agent["status"] in (AgentStatus.DEPLOYING, AgentStatus.TRADING):
            resumable.append((session_id, session))
    return resumable


def resume_session(
    session_id: str, session: dict[str, Any], *, documents: DocumentStore, orchestrator: Orchestrator,
    spec: RuntimeSpec | None = None,
) -> None:
    """Start the runtime of an interrupted session again; it continues its decision numbering."""
    documents.update(SESSIONS, session_id, {"state": "deploying", "updated_at": now_iso()})
    try:
        orchestrator.start(session["agent_id"], session_id, spec or RuntimeSpec())
    except Exception as exc:
        mark_failed(documents, session_id, reason=f"runtime did not restart: {exc}")
        raise


def session_view(session_id: str, session: dict[str, Any]) -> dict[str, Any]:
    """The session as the API shows it."""
    return {k: v for k, v in ({"session_id": session_id} | session).items() if k in SESSION_FIELDS}


def mark_trading(documents: DocumentStore, session_id: str, **fields: Any) -> None:
    """The runtime is up: session `trading`, agent deploying -> trading (idempotent)."""

    def mark(txn: Transaction) -> None:
        session = txn.get(SESSIONS, session_id)
        if session is None:
            raise NotFoundError(f"session {session_id} not found")
        agent = txn.get(AGENTS, session["agent_id"])
        at = now_iso()
        changes = {"state": "trading", "updated_at": at, **fields}
        if fields.get("started_at"):
            # Each runtime run starts its agent afresh: a reconciliation replays the session run
            # by run (shared.reconcile.bars.split_runs), so keep when every run began.
            changes["runs"] = [*(session.get("runs") or []), {"started_at": fields["started_at"]}][-MAX_RUNS:]
        txn.update(SESSIONS, session_id, changes)
        if agent is not None and agent["status"] == AgentStatus.DEPLOYING:
            txn.update(AGENTS, session["agent_id"], transition(agent, AgentStatus.TRADING, at=at, reason=session_id))

    documents.transaction(mark)


def mark_stopped(documents: DocumentStore, session_id: str, *, exit_code: int | None = None) -> None:
    """The runtime has exited after a stop: session and agent `stopped`, slot released."""
    _finish(documents, session_id, "stopped", AgentStatus.STOPPED, exit_code=exit_code)


def mark_failed(documents: DocumentStore, session_id: str, *, reason: str) -> None:
    """The runtime cannot run (restarts exhausted): session and agent `failed`, slot released.

    What the runtime itself reported (the agent's traceback) is kept after the reason.
    """
    reported = ((documents.get(SESSIONS, session_id) or {}).get("error") or "").strip()
    error = reason if not reported or reported in reason else f"{reason}. The runtime reported: {reported}"
    _finish(documents, session_id, "failed", AgentStatus.FAILED, error=error)


def mark_restarted(documents: DocumentStore, session_id: str, restarts: int, *, reason: str) -> None:
    """Count an automatic restart on the session document."""
    documents.update(SESSIONS, session_id, {"restarts": restarts, "last_restart_reason": reason,
                                            "updated_at": now_iso()})


def _finish(documents: DocumentStore, session_id: str, state: str, target: AgentStatus, **fields: Any) -> None:
    def finish(txn: Transaction) -> None:
        session = txn.get(SESSIONS, session_id)
        if session is None:
            return
        agent = txn.get(AGENTS, session["agent_id"])
        user = txn.get(USERS, session["owner_uid"])
        at = now_iso()
        txn.update(SESSIONS, session_id, {"state": state, "stopped_at": at, "updated_at": at, **fields})
        if agent is not None and agent.get("paper_session") == session_id:
            current = AgentStatus(agent["status"])
            if target == AgentStatus.FAILED and current in (AgentStatus.DEPLOYING, AgentStatus.TRADING):
                txn.update(AGENTS, session["agent_id"], transition(agent, target, at=at, reason=fields.get("error")))
            elif target == AgentStatus.STOPPED and current == AgentStatus.STOPPING:
                txn.update(AGENTS, session["agent_id"], transition(agent, target, at=at))
        if user is not None and session_id in user.get("running_sessions", []):
            running = [s for s in user["running_sessions"] if s != session_id]
            txn.update(USERS, session["owner_uid"], {"running_sessions": running, "updated_at": at})

    documents.transaction(finish)


def check_streamed(symbols: Sequence[str], universe: Collection[str]) -> None:
    """Refuse symbols the market feed does not stream (they would never get a bar)."""
    missing = [s for s in symbols if s not in universe]
    if missing:
        raise InvalidInputError(
            f"no market data is streamed for {', '.join(missing)}: paper trading can use "
            f"{', '.join(sorted(universe))} (the platform universe, settings/universe)",
            details={"unstreamed": missing, "streamed": sorted(universe)},
        )


def _symbols(requested: Sequence[str] | None, agent: dict[str, Any]) -> list[str]:
    if requested is None:
        requested = (agent.get("latest_backtest") or {}).get("symbols") or list(DEFAULT_SYMBOLS)
    if (isinstance(requested, str) or not requested or len(requested) > MAX_SYMBOLS
            or not all(isinstance(s, str) and s.strip() for s in requested)):
        raise InvalidInputError(f"symbols must be a list of 1 to {MAX_SYMBOLS} symbol names")
    return sorted({s.strip().upper() for s in requested})


def _owned(agent: dict[str, Any] | None, owner_uid: str, agent_id: str) -> dict[str, Any]:
    if agent is None or agent.get("owner_uid") != owner_uid or agent.get("deleted"):
        raise NotFoundError(f"agent {agent_id} not found")
    return agent
