"""The BacktestRun aggregate: the one builder of the run document, its states and their table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared.adapters.memory import MemoryDocumentStore
from shared.domain.backtest_run import RUN_TRANSITIONS, BacktestRun, RunStatus
from shared.domain.unit_of_work import run_in_transaction
from shared.errors import IllegalTransitionError, InvalidInputError, NotFoundError
from shared.schemas.messages import BacktestCompleted, RunBacktest

AT = "2026-01-02T03:04:05.000006Z"
REQUEST = RunBacktest(run_id="run-1", agent_id="a" * 32, owner_uid="alice", symbols=["AAPL"], start="2024-01-01",
                      end="2024-06-01", requested_at=AT)


def result(status: str = "succeeded", run_id: str = "run-1") -> BacktestCompleted:
    return BacktestCompleted(run_id=run_id, agent_id=REQUEST.agent_id, owner_uid="alice", status=status,
                             finished_at="fin", metrics={"sharpe": 1.0}, report_key="r.json",
                             error=None if status == "succeeded" else "boom")


def test_a_requested_run_is_queued_with_its_request_and_nothing_it_has_not_done_yet() -> None:
    document = BacktestRun.requested(REQUEST, at=AT).to_document()
    assert document == {"owner_uid": "alice", "agent_id": REQUEST.agent_id, "status": "queued", "automatic": False,
                        "standard": False, "request": {**vars(REQUEST)}, "created_at": AT, "updated_at": AT}
    assert BacktestRun.requested(REQUEST, at=AT).run_request() == REQUEST


def test_the_standard_evaluation_is_the_automatic_run_that_carries_its_evaluation() -> None:
    run = BacktestRun.requested(REQUEST, at=AT, automatic=True, evaluation={"evaluation_id": "std-1"})
    document = run.to_document()
    assert (document["automatic"], document["standard"], document["evaluation"]) == (
        True, True, {"evaluation_id": "std-1"})


def test_a_run_starts_once_and_finishes_once() -> None:
    run = BacktestRun.requested(REQUEST, at=AT)
    assert run.start(at="t1") is True and run.start(at="t2") is False
    assert (run.status, run.started_at) == (RunStatus.RUNNING, "t1")
    assert run.record(result(), at="t3") is True
    assert run.record(result("failed"), at="t4") is False
    assert run.summary() == {"run_id": "run-1", "status": "succeeded", "finished_at": "fin",
                             "metrics": {"sharpe": 1.0}, "report_key": "r.json", "error": None,
                             "symbols": ["AAPL"]}
    assert run.start(at="t5") is False and run.status is RunStatus.SUCCEEDED


def test_the_table_never_goes_back_to_queued_and_a_finished_run_is_final() -> None:
    assert all(RunStatus.QUEUED not in targets for targets in RUN_TRANSITIONS.values())
    assert RUN_TRANSITIONS[RunStatus.SUCCEEDED] == RUN_TRANSITIONS[RunStatus.FAILED] == frozenset()


@pytest.mark.parametrize("current", [RunStatus.SUCCEEDED, RunStatus.FAILED])
def test_a_finished_run_cannot_succeed_or_fail_again(current: RunStatus) -> None:
    run = BacktestRun.from_document("run-1", {"owner_uid": "a", "agent_id": "b", "status": current.value})
    with pytest.raises(IllegalTransitionError):
        run.succeed(finished_at="f", metrics={}, report_key=None, at="t")
    with pytest.raises(IllegalTransitionError):
        run.fail("why", finished_at="f", at="t")
    assert run.status is current and run.to_document()["status"] == current.value


def test_a_failure_keeps_its_reason_and_a_result_without_a_request_is_kept_anyway() -> None:
    run = BacktestRun.unseen("run-9", owner_uid="alice", agent_id="b", at=AT)
    assert run.record(result("failed", "run-9"), at=AT)
    document = run.to_document()
    assert document["status"] == "failed" and document["error"] == "boom" and "request" not in document
    with pytest.raises(InvalidInputError):
        run.run_request()


def test_a_stored_run_round_trips_unchanged_whatever_fields_it_holds() -> None:
    document: dict[str, Any] = {"owner_uid": "a", "agent_id": "b", "status": "running", "job": {"job_id": "j"},
                                "someday": [1]}
    assert BacktestRun.from_document("r", document).to_document() == document


@pytest.mark.parametrize("document", [{"owner_uid": "a", "agent_id": "b"}, {"status": "queued", "agent_id": "b"},
                                      {"owner_uid": "a", "agent_id": "b", "status": "paused"}])
def test_a_malformed_run_document_is_an_invalid_input(document: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError):
        BacktestRun.from_document("r", document)


@pytest.fixture
def documents() -> Iterator[MemoryDocumentStore]:
    store = MemoryDocumentStore()
    yield store
    store.close()


def test_only_the_owner_reads_a_run_and_anyone_else_hears_it_does_not_exist(documents: MemoryDocumentStore) -> None:
    run_in_transaction(documents, lambda uow: uow.backtest_runs.add(BacktestRun.requested(REQUEST, at=AT)))
    assert run_in_transaction(documents, lambda uow: uow.backtest_runs.owned("run-1", "alice")).agent_id
    for uid, run_id in (("bob", "run-1"), ("alice", "run-2")):
        with pytest.raises(NotFoundError, match=f"^backtest run {run_id} not found$"):
            run_in_transaction(documents, lambda uow, r=run_id, u=uid: uow.backtest_runs.owned(r, u))
