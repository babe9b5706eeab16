"""The paper-trading session (SPEC §5, §9): its states, the legal steps between them, its invariants.

A session is one runtime's life on one broker account: created `deploying` by a start, moved to
`trading` by its runtime, `pausing`/`paused` and `stopping`/`stopped` by its owner, `interrupted`
when its runtime left without being asked (a local stack that stopped), `failed` when the runtime
cannot run. `desired` says what the owner asked for (running, paused, stopped): reports from a
runtime never override it. The aggregate owns:
- the account: a session trades the account it was started with; nothing can change it, and a
  runtime that reports another one is refused;
- the restart budget (`MAX_AUTOMATIC_RESTARTS`, the same for the local orchestrator and the GKE
  watcher): past it the session is `failed`;
- with its repository, the owner's running-session slots (`shared.domain.running_sessions`),
  claimed and released in the transaction that starts or ends a session.

Fields it does not model (and the runtime's own fields, `RUNTIME_FIELDS`) survive untouched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from shared.domain.aggregate import DocumentRepository
from shared.domain.clock import parse_iso
from shared.domain.lifecycle import MAX_AUTOMATIC_RESTARTS
from shared.domain.running_sessions import RunningSessions
from shared.domain.session_states import (
    FINISHED_STATES,
    LIVE_STATES,
    TRANSITIONS,
    Desired,
    SessionState,
    can_move,
)
from shared.domain.timeframe import Timeframe
from shared.errors import ConflictError, IllegalTransitionError
from shared.schemas.collections import SESSIONS, USERS
from shared.schemas.topics import CRYPTO_DATA, MARKET_DATA

__all__ = ["FINISHED_STATES", "LIVE_STATES", "TRANSITIONS", "Desired", "PaperSession", "PaperSessionRepository",
           "SessionState", "can_move", "topic_for"]
S = SessionState


MAX_RUNS = 1000  # runtime runs remembered per session (restarts, pauses)
HEARTBEAT_STALE_S = 60.0  # the runtime heartbeats every 2 s; this much silence means it is not answering
# The runtime writes these with a plain update (`shared.services.paper_runtime.record_runtime_report`):
# a transaction per heartbeat (every 2 s per session) would cost a read each time and contend with
# the owner's commands. The aggregate sets them only when it opens a session (besides `updated_at`).
RUNTIME_FIELDS = frozenset({
    "portfolio_value", "cash", "positions", "recent_trades", "trades", "decisions", "last_decision_point",
    "heartbeat_at", "updated_at", "latency_p95_ms", "bars_routed", "fmel", "snapshots", "lost_decisions",
    "fmel_gaps",
})
# What a runtime says about itself when it comes up (`PaperSession.runtime_started`).
RUNTIME_START_FIELDS = frozenset({"started_at", "pid", "health_port", "broker"})


def topic_for(symbol: str) -> str:
    """The market topic a symbol's bars arrive on (crypto pairs are written `BTC/USD`)."""
    return CRYPTO_DATA if "/" in symbol else MARKET_DATA


class PaperSession:
    """One paper-trading session: typed access to its document and every step of its life."""

    def __init__(self, session_id: str, document: Mapping[str, Any]) -> None:
        self._id = session_id
        self._doc = dict(document)

    @classmethod
    def open(
        cls, session_id: str, *, owner_uid: str, agent_id: str, account_id: str, symbols: Sequence[str],
        timeframe: Timeframe, starting_value: float, at: str,
    ) -> PaperSession:
        """A new session, `deploying` on `account_id` with its whole starting value in cash."""
        return cls(session_id, {
            "owner_uid": owner_uid, "agent_id": agent_id, "account_id": account_id, "symbols": list(symbols),
            "timeframe": Timeframe(timeframe).value, "topics": sorted({topic_for(s) for s in symbols}),
            "state": S.DEPLOYING.value, "desired": Desired.RUNNING.value, "starting_value": starting_value,
            "portfolio_value": starting_value, "cash": starting_value, "positions": [], "recent_trades": [],
            "trades": 0, "decisions": 0, "last_decision_point": 0, "lost_decisions": 0, "fmel_gaps": [],
            "restarts": 0, "heartbeat_at": None, "started_at": None, "stopped_at": None, "error": None,
            "created_at": at, "updated_at": at,
        })


    @property
    def id(self) -> str:
        return self._id

    @property
    def owner_uid(self) -> str:
        return str(self._doc["owner_uid"])

    @property
    def agent_id(self) -> str:
        return str(self._doc["agent_id"])

    @property
    def account_id(self) -> str:
        """The broker account it trades: fixed when the session is opened."""
        return str(self._doc["account_id"])

    @property
    def state(self) -> SessionState:
        return SessionState(self._doc["state"])

    @property
    def desired(self) -> Desired:
        return Desired(self._doc.get("desired") or Desired.RUNNING)

    @property
    def symbols(self) -> list[str]:
        return list(self._doc.get("symbols") or [])

    @property
    def timeframe(self) -> Timeframe:
        return Timeframe(self._doc.get("timeframe") or Timeframe.MINUTE)

    @property
    def error(self) -> str | None:
        return self._doc.get("error")

    @property
    def is_live(self) -> bool:
        """Whether a runtime is (or should be) running for it."""
        return self.state in LIVE_STATES

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES

    def to_document(self) -> dict[str, Any]:
        return dict(self._doc)

    def require_account(self, account_id: str) -> None:
        """Refuse to run or record this session on any account but its own."""
        if account_id != self.account_id:
            raise ConflictError(
                f"session {self.id} trades account {self.account_id}, not {account_id}",
                details={"session_account": self.account_id, "account": account_id},
            )


    def runtime_started(self, *, at: str, account_id: str | None = None, **runtime: Any) -> None:
        """Its runtime is up: `trading` unless the owner asked to pause or stop meanwhile."""
        if account_id is not None:
            self.require_account(account_id)
        unknown = set(runtime) - RUNTIME_START_FIELDS
        if unknown:
            raise ValueError(f"not runtime start fields of a session: {sorted(unknown)}")
        self._doc.update(runtime)
        if runtime.get("started_at"):
            # Each runtime run starts its agent afresh: a reconciliation replays the session run
            # by run (shared.reconcile.bars.split_runs), so keep when every run began.
            self._doc["runs"] = [*(self._doc.get("runs") or []), {"started_at": runtime["started_at"]}][-MAX_RUNS:]
        if self.state in (S.DEPLOYING, S.INTERRUPTED):
            self._move(S.TRADING, at)
        self._touch(at)

    def runtime_exited(self, *, at: str) -> None:
        """Its runtime left cleanly: `interrupted` if nobody asked it to (the owner's steps win)."""
        if self.desired is Desired.RUNNING and self.state in (S.DEPLOYING, S.TRADING):
            self._move(S.INTERRUPTED, at)

    def report_error(self, error: str, *, at: str) -> None:
        """What the runtime itself saw go wrong (the agent's traceback), kept for the owner."""
        self._doc["error"] = error
        self._touch(at)

    def record_restart(self, restarts: int, *, reason: str, at: str) -> bool:
        """Count an automatic restart of its runtime; True when that exhausted the budget.

        More than `MAX_AUTOMATIC_RESTARTS` restarts and the session is `failed` (its agent too,
        which the caller applies): a runtime that crash-loops never stays `trading`. A finished
        session stays as it ended (a watcher may report the same pod again).
        """
        if self.is_finished:
            return False
        self._doc["restarts"] = restarts
        self._doc["last_restart_reason"] = reason
        self._touch(at)
        if restarts <= MAX_AUTOMATIC_RESTARTS:
            return False
        return self.fail(f"runtime restarted {restarts} times, more than the {MAX_AUTOMATIC_RESTARTS} "
                         f"allowed; last: {reason}", at=at)

    def fail(self, reason: str, *, at: str) -> bool:
        """Its runtime cannot run: `failed`; False when that changes nothing.

        A finished session stays as it ended, and a pause or stop the owner asked for wins over a
        failure reported while the runtime was going away. What the runtime reported itself (the
        agent's traceback) is kept after the reason.
        """
        if self.is_finished or self.desired is not Desired.RUNNING:
            return False
        reported = (self.error or "").strip()
        self._doc["error"] = reason if not reported or reported in reason else (
            f"{reason}. The runtime reported: {reported}")
        self._move(S.FAILED, at)
        self._doc["stopped_at"] = at
        return True


    def redeploy(self, *, at: str) -> None:
        """Start its runtime again after the stack it ran in died (decision numbering continues)."""
        if self.desired is not Desired.RUNNING or not self.is_live:
            raise IllegalTransitionError(f"session {self.id} is {self.state}: only a live session is redeployed",
                                         details={"from": self.state.value, "to": S.DEPLOYING.value})
        self._move(S.DEPLOYING, at)

    def request_pause(self, *, at: str) -> None:
        """The owner asks to pause: `pausing` until its runtime has gone."""
        self._move(S.PAUSING, at)
        self._doc["desired"] = Desired.PAUSED.value

    def paused(self, *, at: str) -> None:
        """Its runtime has gone after a pause: `paused` (no-op when already)."""
        if self.state is S.PAUSING:
            self._move(S.PAUSED, at)
            self._doc["paused_at"] = at

    def resume(self, *, at: str) -> None:
        """The owner resumes a paused session: `deploying` on the same session and account."""
        self._move(S.DEPLOYING, at)
        self._doc["desired"] = Desired.RUNNING.value
        self._doc["resumed_at"] = at

    def request_stop(self, *, at: str) -> None:
        """The owner (or the deletion of its agent) asks to stop: `stopping` (no-op when already)."""
        if self.state is not S.STOPPING:
            self._move(S.STOPPING, at)
        self._doc["desired"] = Desired.STOPPED.value

    def stopped(self, *, at: str) -> bool:
        """Its runtime has gone after a stop: `stopped`; False when it already was."""
        if self.state is S.STOPPED:
            return False
        self._move(S.STOPPED, at)
        self._doc["stopped_at"] = at
        return True


    def heartbeat_age_s(self, now: datetime) -> float | None:
        """Seconds since the runtime last reported (heartbeat, else start); None if it never did."""
        seen = self._doc.get("heartbeat_at") or self._doc.get("started_at")
        return None if not seen else max(0.0, (now - parse_iso(seen)).total_seconds())

    def runtime_health(self, now: datetime, *, stale_after_s: float = HEARTBEAT_STALE_S) -> str:
        """`running`, `unresponsive` (trading, silent past `stale_after_s`), `starting`, or `none`."""
        if self.state is S.DEPLOYING:
            return "starting"
        if self.state is not S.TRADING:
            return "none"
        age = self.heartbeat_age_s(now)
        return "unresponsive" if age is None or age > stale_after_s else "running"

    def _move(self, target: SessionState, at: str) -> None:
        if target is self.state:
            return
        if not can_move(self.state, target):
            raise IllegalTransitionError(
                f"session cannot go from {self.state.value} to {target.value}",
                details={"from": self.state.value, "to": target.value},
            )
        self._doc["state"] = target.value
        self._touch(at)

    def _touch(self, at: str) -> None:
        self._doc["updated_at"] = at


class PaperSessionRepository(DocumentRepository[PaperSession]):
    """Sessions in the `sessions` collection, read and written inside one transaction.

    Sessions are reached through their agent (`Agent.paper_session`), whose repository makes
    the ownership check; the owner's running-session slots are read here too
    (`running_sessions`), so that a start or an end claims or releases one in the same transaction.
    """

    collection = SESSIONS
    kind = "session"

    def load(self, doc_id: str, document: dict[str, Any]) -> PaperSession:
        return PaperSession(doc_id, document)

    def running_sessions(self, owner_uid: str) -> RunningSessions:
        """The owner's running-session slots (read now: every read comes before the writes)."""
        return RunningSessions(owner_uid, self._txn.get(USERS, owner_uid))

    def save_running_sessions(self, slots: RunningSessions, *, at: str) -> None:
        """Stage the slots' change, creating the user document the first time."""
        if not slots.changed:
            return
        changes = {"running_sessions": slots.session_ids, "updated_at": at}
        if slots.stored:
            self._txn.update(USERS, slots.owner_uid, changes)
        else:
            self._txn.create(USERS, slots.owner_uid, {"owner_uid": slots.owner_uid, "created_at": at, **changes})
