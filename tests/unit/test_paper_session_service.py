"""The paper-trading handlers over an in-memory document store: start, pause, resume, stop, the
runtime's reports and the restart budget (milliseconds: no runtime, no orchestrator process)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.adapters.memory.documents import MemoryDocumentStore
from shared.domain.clock import parse_iso
from shared.domain.lifecycle import MAX_AUTOMATIC_RESTARTS
from shared.domain.running_sessions import MAX_RUNNING_SESSIONS
from shared.domain.unit_of_work import run_in_transaction
from shared.errors import ConflictError, IllegalTransitionError, InvalidInputError, NotFoundError
from shared.schemas.collections import AGENTS, SESSIONS, USERS
from shared.services import paper_controls, paper_runtime, paper_trading
from tests.fakes.paper_ports import UID, Accounts, Orchestrator, backtested


def start(documents: MemoryDocumentStore, agent_id: str, orchestrator: Orchestrator | None = None,
          **kwargs: Any) -> dict[str, Any]:
    cmd = paper_trading.StartPaperTrading(owner_uid=UID, agent_id=agent_id, **kwargs)
    return paper_trading.start_paper_trading(cmd, documents=documents, accounts=Accounts(),
                                             orchestrator=orchestrator or Orchestrator())


def status(documents: MemoryDocumentStore, agent_id: str) -> tuple[str, str]:
    agent = documents.get(AGENTS, agent_id) or {}
    return agent["status"], (documents.get(SESSIONS, agent["paper_session"]) or {})["state"]


def running(documents: MemoryDocumentStore) -> list[str]:
    return (documents.get(USERS, UID) or {}).get("running_sessions", [])


@pytest.fixture
def documents() -> MemoryDocumentStore:
    return MemoryDocumentStore()


def test_a_start_opens_a_deploying_session_on_the_agents_account_and_takes_a_slot(documents) -> None:
    agent_id = backtested(documents)
    orchestrator = Orchestrator()
    session = start(documents, agent_id, orchestrator)
    assert session["state"] == "deploying" and session["symbols"] == ["MSFT"]  # its backtest's symbols
    assert session["account_id"] == f"acct-{agent_id}" and session["runtime"] == "starting"
    assert status(documents, agent_id) == ("deploying", "deploying")
    assert running(documents) == [session["session_id"]] and orchestrator.calls == [("start", agent_id)]


def test_a_start_is_refused_without_a_known_timeframe_a_funded_account_or_a_free_slot(documents) -> None:
    agent_id = backtested(documents)
    with pytest.raises(InvalidInputError, match="timeframe must be one of"):
        start(documents, agent_id, timeframe="2Min")
    cmd = paper_trading.StartPaperTrading(owner_uid=UID, agent_id=agent_id)
    with pytest.raises(ConflictError, match="funded broker account"):
        paper_trading.start_paper_trading(cmd, documents=documents, accounts=Accounts(funded=False),
                                          orchestrator=Orchestrator())
    documents.set(USERS, UID, {"owner_uid": UID, "running_sessions": [f"ps-{i}" for i in range(MAX_RUNNING_SESSIONS)]})
    with pytest.raises(ConflictError, match=f"at most {MAX_RUNNING_SESSIONS}"):
        start(documents, agent_id)
    assert documents.get(AGENTS, agent_id)["status"] == "backtested"
    with pytest.raises(NotFoundError, match="not found"):
        paper_trading.get_paper_trading("bob", agent_id, documents=documents)


def test_a_runtime_that_cannot_start_fails_the_session_and_gives_the_slot_back(documents) -> None:
    agent_id = backtested(documents)
    with pytest.raises(RuntimeError):
        start(documents, agent_id, Orchestrator(fail_start=True))
    assert status(documents, agent_id) == ("failed", "failed") and running(documents) == []


def test_the_whole_life_through_the_handlers(documents) -> None:
    agent_id = backtested(documents)
    orchestrator = Orchestrator()
    session_id = start(documents, agent_id, orchestrator)["session_id"]
    paper_runtime.mark_trading(documents, session_id, account_id=f"acct-{agent_id}", started_at="2026-01-05T15:00:00Z")
    assert status(documents, agent_id) == ("trading", "trading")
    paused = paper_controls.pause_paper_trading(UID, agent_id, documents=documents, orchestrator=orchestrator)
    assert paused["state"] == "paused" and status(documents, agent_id) == ("paused", "paused")
    assert running(documents) == [session_id]  # a paused session keeps its slot
    resumed = paper_controls.resume_paper_trading(UID, agent_id, documents=documents, orchestrator=orchestrator)
    assert resumed["session_id"] == session_id and status(documents, agent_id) == ("trading", "deploying")
    paper_runtime.mark_trading(documents, session_id, started_at="2026-01-05T15:10:00Z")
    stopped = paper_trading.stop_paper_trading(UID, agent_id, documents=documents, orchestrator=orchestrator)
    assert stopped["state"] == "stopped" and status(documents, agent_id) == ("stopped", "stopped")
    assert running(documents) == []
    assert [c for c, _ in orchestrator.calls] == ["start", "stop", "start", "stop"]
    assert len(documents.get(SESSIONS, session_id)["runs"]) == 2


def test_a_runtime_on_another_account_is_refused(documents) -> None:
    agent_id = backtested(documents)
    session_id = start(documents, agent_id)["session_id"]
    with pytest.raises(ConflictError, match=f"trades account acct-{agent_id}, not acct-other"):
        paper_runtime.mark_trading(documents, session_id, account_id="acct-other", started_at="t")
    assert status(documents, agent_id) == ("deploying", "deploying")


@pytest.mark.parametrize("restarts", range(1, MAX_AUTOMATIC_RESTARTS + 1))
def test_restarts_within_the_budget_keep_the_session_trading(documents, restarts: int) -> None:
    agent_id = backtested(documents)
    session_id = start(documents, agent_id)["session_id"]
    paper_runtime.mark_trading(documents, session_id, started_at="t")
    assert not paper_trading.record_runtime_restart(documents, session_id, restarts, reason="exited with 1")
    assert status(documents, agent_id) == ("trading", "trading")
    assert documents.get(SESSIONS, session_id)["restarts"] == restarts


def test_one_restart_past_the_budget_fails_the_session_and_its_agent_once(documents) -> None:
    agent_id = backtested(documents)
    session_id = start(documents, agent_id)["session_id"]
    paper_runtime.mark_trading(documents, session_id, started_at="t")
    past = MAX_AUTOMATIC_RESTARTS + 1
    assert paper_trading.record_runtime_restart(documents, session_id, past, reason="CrashLoopBackOff")
    # A watcher repeats itself: the session has already failed.
    assert not paper_trading.record_runtime_restart(documents, session_id, past + 1, reason="again")
    assert status(documents, agent_id) == ("failed", "failed") and running(documents) == []
    session = documents.get(SESSIONS, session_id)
    assert session["restarts"] == past and "more than the 3 allowed; last: CrashLoopBackOff" in session["error"]
    assert not paper_trading.record_runtime_restart(documents, "ps-unknown", 9, reason="gone")


def test_a_failure_reported_after_a_stop_request_leaves_the_stop_to_finish(documents) -> None:
    agent_id = backtested(documents)
    session_id = start(documents, agent_id)["session_id"]
    run_in_transaction(documents, lambda uow: _request_stop(uow, agent_id, session_id))
    paper_trading.mark_failed(documents, session_id, reason="exited with 1 after 3 restarts")
    assert status(documents, agent_id) == ("stopping", "stopping")
    paper_trading.mark_stopped(documents, session_id)
    assert status(documents, agent_id) == ("stopped", "stopped") and running(documents) == []


def _request_stop(uow: Any, agent_id: str, session_id: str) -> None:
    agent, session = uow.agents.require(agent_id), uow.sessions.require(session_id)
    agent.move_to(agent.status.STOPPING, at="t")
    session.request_stop(at="t")
    uow.agents.save(agent)
    uow.sessions.save(session)


def test_a_clean_exit_interrupts_the_session_and_a_restarted_stack_redeploys_it(documents) -> None:
    agent_id = backtested(documents)
    session_id = start(documents, agent_id)["session_id"]
    paper_runtime.mark_trading(documents, session_id, started_at="t")
    paper_runtime.mark_runtime_exited(documents, session_id)
    assert status(documents, agent_id) == ("trading", "interrupted")
    [(resumable, _)] = paper_trading.sessions_to_resume(documents)
    orchestrator = Orchestrator()
    paper_trading.resume_session(resumable, {}, documents=documents, orchestrator=orchestrator)
    assert status(documents, agent_id) == ("trading", "deploying") and orchestrator.calls == [("start", agent_id)]


def test_the_heartbeat_writes_only_the_runtimes_fields_and_its_age_shows_in_the_status(documents) -> None:
    agent_id = backtested(documents)
    session_id = start(documents, agent_id)["session_id"]
    paper_runtime.mark_trading(documents, session_id, started_at="2026-01-05T15:00:00.000000Z")
    at = "2026-01-05T15:00:02.000000Z"
    paper_runtime.record_runtime_report(documents, session_id, {"heartbeat_at": at, "cash": 1.0, "updated_at": at})
    with pytest.raises(ValueError, match="state"):
        paper_runtime.record_runtime_report(documents, session_id, {"state": "trading"})
    now = parse_iso(at) + timedelta(seconds=3)
    view = paper_trading.get_paper_trading(UID, agent_id, documents=documents, now=now)
    assert (view["heartbeat_age_s"], view["runtime"], view["cash"]) == (3.0, "running", 1.0)
    later = paper_trading.get_paper_trading(UID, agent_id, documents=documents, now=now + timedelta(minutes=5))
    assert later["runtime"] == "unresponsive" and later["state"] == "trading"


def test_a_deleted_agents_session_is_stopped_once(documents) -> None:
    agent_id = backtested(documents)
    session_id = start(documents, agent_id)["session_id"]

    def delete(uow: Any) -> None:
        agent = uow.agents.require(agent_id)
        agent.delete(at="t")
        uow.agents.save(agent)

    run_in_transaction(documents, delete)
    orchestrator = Orchestrator()
    assert paper_trading.stop_deleted_agent(agent_id, documents=documents, orchestrator=orchestrator)
    assert not paper_trading.stop_deleted_agent(agent_id, documents=documents, orchestrator=orchestrator)
    assert status(documents, agent_id) == ("stopped", "stopped") and running(documents) == []
    assert documents.get(SESSIONS, session_id)["desired"] == "stopped"


def test_a_stopped_session_cannot_be_redeployed(documents) -> None:
    agent_id = backtested(documents)
    orchestrator = Orchestrator()
    session_id = start(documents, agent_id, orchestrator)["session_id"]
    paper_trading.stop_paper_trading(UID, agent_id, documents=documents, orchestrator=orchestrator)
    with pytest.raises(IllegalTransitionError):
        paper_trading.resume_session(session_id, {}, documents=documents, orchestrator=orchestrator)
