"""The paper session aggregate: its state machine, its account, its restart budget, its slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from shared.domain.lifecycle import MAX_AUTOMATIC_RESTARTS
from shared.domain.paper_session import (
    RUNTIME_FIELDS,
    TRANSITIONS,
    Desired,
    PaperSession,
    PaperSessionRepository,
    SessionState,
    can_move,
)
from shared.domain.running_sessions import MAX_RUNNING_SESSIONS, RunningSessions
from shared.domain.timeframe import Timeframe
from shared.errors import ConflictError, IllegalTransitionError
from shared.schemas.collections import SESSIONS, USERS
from shared.schemas.topics import CRYPTO_DATA, MARKET_DATA

S = SessionState
T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
T0_ISO = "2026-01-05T15:00:00.000000Z"


def opened(**overrides: object) -> PaperSession:
    session = PaperSession.open("ps-1", owner_uid="alice", agent_id="agent-1", account_id="acct-1",
                                symbols=["AAPL", "BTC/USD"], timeframe=Timeframe.MINUTE, starting_value=25_000.0,
                                at="2026-01-05T15:00:00.000000Z")
    return PaperSession("ps-1", session.to_document() | overrides)


def in_state(state: SessionState) -> PaperSession:
    """A session brought to `state` through its own steps (never a raw status)."""
    session = opened()
    steps = {
        S.DEPLOYING: [],
        S.TRADING: [lambda s: s.runtime_started(at=T0_ISO, started_at=T0_ISO)],
        S.INTERRUPTED: [lambda s: s.runtime_started(at="t1"), lambda s: s.runtime_exited(at="t2")],
        S.PAUSING: [lambda s: s.runtime_started(at="t1"), lambda s: s.request_pause(at="t2")],
        S.PAUSED: [lambda s: s.runtime_started(at="t1"), lambda s: s.request_pause(at="t2"),
                   lambda s: s.paused(at="t3")],
        S.STOPPING: [lambda s: s.request_stop(at="t1")],
        S.STOPPED: [lambda s: s.request_stop(at="t1"), lambda s: s.stopped(at="t2")],
        S.FAILED: [lambda s: s.fail("no runtime", at="t1")],
    }[state]
    for step in steps:
        step(session)
    assert session.state is state
    return session


# One public step per target state (the ones a caller uses to get there).
STEP_TO = {
    S.DEPLOYING: lambda s: s.resume(at="t9") if s.desired is Desired.PAUSED else s.redeploy(at="t9"),
    S.TRADING: lambda s: s.runtime_started(at="t9"),
    S.INTERRUPTED: lambda s: s.runtime_exited(at="t9"),
    S.PAUSING: lambda s: s.request_pause(at="t9"),
    S.PAUSED: lambda s: s.paused(at="t9"),
    S.STOPPING: lambda s: s.request_stop(at="t9"),
    S.STOPPED: lambda s: s.stopped(at="t9"),
    S.FAILED: lambda s: s.fail("boom", at="t9"),
}


def test_a_new_session_is_deploying_on_its_account_with_its_starting_value_in_cash() -> None:
    doc = opened().to_document()
    assert doc["state"] == "deploying" and doc["desired"] == "running" and doc["account_id"] == "acct-1"
    assert doc["cash"] == doc["portfolio_value"] == doc["starting_value"] == 25_000.0
    assert doc["topics"] == sorted([CRYPTO_DATA, MARKET_DATA])
    assert doc["timeframe"] == "1Min" and doc["restarts"] == 0


@pytest.mark.parametrize(("source", "target"), [(s, t) for s, t in product(S, S) if s is not t])
def test_every_step_is_legal_exactly_when_the_table_says_so(source: SessionState, target: SessionState) -> None:
    session = in_state(source)
    legal = can_move(source, target)
    try:
        STEP_TO[target](session)
    except IllegalTransitionError as exc:
        assert not legal, f"{source} -> {target} is in the table but refused: {exc}"
        assert session.state is source
        return
    # A runtime's report, or a step the owner's latest request overtook, changes nothing rather
    # than fail (the owner's word wins); a step the table allows always takes the session there.
    assert session.state is (target if legal else source)


def test_a_finished_session_is_final_except_a_failed_one_can_be_stopped() -> None:
    assert TRANSITIONS[S.STOPPED] == frozenset()
    assert TRANSITIONS[S.FAILED] == frozenset({S.STOPPING})


def test_the_whole_life_of_a_session_through_its_steps() -> None:
    session = opened()
    session.runtime_started(at="t1", started_at="t1", pid=42)
    session.request_pause(at="t2")
    session.runtime_exited(at="t3")  # the paused runtime leaves: the owner's pause wins over interrupted
    assert session.state is S.PAUSING
    session.paused(at="t4")
    session.resume(at="t5")
    session.runtime_started(at="t6", started_at="t6")
    session.request_stop(at="t7")
    session.request_stop(at="t7")  # a second request (a redelivered deletion) changes nothing
    assert session.stopped(at="t8") and not session.stopped(at="t9")
    doc = session.to_document()
    assert (doc["state"], doc["desired"], doc["paused_at"], doc["resumed_at"], doc["stopped_at"]) == (
        "stopped", "stopped", "t4", "t5", "t8")
    assert [run["started_at"] for run in doc["runs"]] == ["t1", "t6"]


def test_a_runtime_that_leaves_unasked_interrupts_the_session_and_comes_back_trading() -> None:
    session = in_state(S.TRADING)
    session.runtime_exited(at="t2")
    assert session.state is S.INTERRUPTED and session.is_live
    session.runtime_started(at="t3", started_at="t3")
    assert session.state is S.TRADING


def test_a_runtime_coming_up_after_a_stop_request_does_not_undo_it() -> None:
    session = in_state(S.STOPPING)
    session.runtime_started(at="t2", started_at="t2")
    assert session.state is S.STOPPING and session.to_document()["runs"] == [{"started_at": "t2"}]


def test_a_runtime_reports_only_its_own_start_fields() -> None:
    with pytest.raises(ValueError, match="state"):
        opened().runtime_started(at="t1", state="trading")
    assert not RUNTIME_FIELDS & {"state", "desired", "account_id", "restarts", "error", "owner_uid"}


def test_a_session_trades_only_the_account_it_was_started_with() -> None:
    session = opened()
    with pytest.raises(ConflictError, match="trades account acct-1, not acct-2"):
        session.runtime_started(at="t1", account_id="acct-2", started_at="t1")
    assert session.state is S.DEPLOYING and "runs" not in session.to_document()
    session.runtime_started(at="t1", account_id="acct-1")
    assert session.state is S.TRADING
    with pytest.raises(AttributeError):
        session.account_id = "acct-2"


def test_restarts_within_the_budget_are_counted_and_the_next_one_fails_the_session() -> None:
    session = in_state(S.TRADING)
    for restarts in range(1, MAX_AUTOMATIC_RESTARTS + 1):
        assert not session.record_restart(restarts, reason=f"exited with 1 (#{restarts})", at="t")
        assert session.state is S.TRADING
    assert session.record_restart(MAX_AUTOMATIC_RESTARTS + 1, reason="exited with 137", at="t5")
    doc = session.to_document()
    assert doc["state"] == "failed" and doc["restarts"] == 4 and doc["last_restart_reason"] == "exited with 137"
    assert doc["error"].startswith("runtime restarted 4 times, more than the 3 allowed") and doc["stopped_at"] == "t5"
    assert not session.record_restart(MAX_AUTOMATIC_RESTARTS + 2, reason="again", at="t6")
    assert session.to_document() == doc  # a finished session stays as it ended


def test_a_restart_past_the_budget_does_not_fail_a_session_its_owner_stopped() -> None:
    session = in_state(S.STOPPING)
    assert not session.record_restart(MAX_AUTOMATIC_RESTARTS + 2, reason="exited with 143", at="t")
    assert session.state is S.STOPPING


def test_a_failure_keeps_what_the_runtime_reported_after_the_reason() -> None:
    session = in_state(S.TRADING)
    session.report_error("Traceback: ZeroDivisionError", at="t2")
    assert session.fail("runtime exited with 1 after 3 restarts", at="t3")
    assert session.error == "runtime exited with 1 after 3 restarts. The runtime reported: Traceback: ZeroDivisionError"
    assert not session.fail("again", at="t4") and session.to_document()["stopped_at"] == "t3"


def test_fields_the_aggregate_does_not_model_survive_its_steps() -> None:
    session = PaperSession("ps-1", opened().to_document() | {"latency_p95_ms": 3.5, "future_field": {"a": 1}})
    session.runtime_started(at="t1")
    session.request_stop(at="t2")
    doc = session.to_document()
    assert doc["latency_p95_ms"] == 3.5 and doc["future_field"] == {"a": 1}


def test_the_status_says_when_a_trading_runtime_stopped_answering() -> None:
    session = in_state(S.TRADING)  # started at T0, no heartbeat yet
    assert session.heartbeat_age_s(T0 + timedelta(seconds=5)) == 5.0
    assert session.runtime_health(T0 + timedelta(seconds=5)) == "running"
    session = PaperSession("ps-1", session.to_document() | {"heartbeat_at": "2026-01-05T15:04:00.000000Z"})
    assert session.runtime_health(T0 + timedelta(minutes=4, seconds=30)) == "running"
    assert session.runtime_health(T0 + timedelta(minutes=6)) == "unresponsive"
    never_seen = opened()
    never_seen.runtime_started(at=T0_ISO)
    assert never_seen.heartbeat_age_s(T0) is None and never_seen.runtime_health(T0) == "unresponsive"
    assert opened().runtime_health(T0) == "starting" and in_state(S.PAUSED).runtime_health(T0) == "none"


def test_slots_are_claimed_up_to_the_limit_and_released() -> None:
    slots = RunningSessions("alice", {"running_sessions": [f"ps-{i}" for i in range(MAX_RUNNING_SESSIONS - 1)]})
    slots.claim("ps-new")
    with pytest.raises(ConflictError, match=f"at most {MAX_RUNNING_SESSIONS}"):
        slots.claim("ps-one-too-many")
    slots.release("ps-new")
    slots.release("ps-never-there")
    assert "ps-new" not in slots.session_ids and slots.changed


def test_the_repository_creates_the_session_and_the_users_slots_in_one_transaction(tmp_path) -> None:
    from shared.adapters.local.documents import SqliteDocumentStore
    from shared.domain.unit_of_work import run_in_transaction

    documents = SqliteDocumentStore(tmp_path / "docs.sqlite3")

    def start(uow) -> None:
        slots = uow.sessions.running_sessions("alice")
        session = opened()
        slots.claim(session.id)
        uow.sessions.add(session)
        uow.sessions.save_running_sessions(slots, at="t0")

    run_in_transaction(documents, start)

    def stop(uow) -> None:
        session = uow.sessions.require("ps-1")
        slots = uow.sessions.running_sessions(session.owner_uid)
        session.request_stop(at="t1")
        session.stopped(at="t2")
        slots.release(session.id)
        uow.sessions.save(session)
        uow.sessions.save_running_sessions(slots, at="t2")

    run_in_transaction(documents, stop)
    assert documents.get(SESSIONS, "ps-1")["state"] == "stopped"
    assert documents.get(USERS, "alice")["running_sessions"] == []
    assert isinstance(PaperSessionRepository.kind, str)
