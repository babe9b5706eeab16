"""The Agent aggregate: its lifecycle moves, soft delete, backtest summaries, documents it keeps
intact and the one ownership check of its repository."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared.adapters.memory import MemoryDocumentStore
from shared.domain.agent import Agent, AgentRepository, check_agent_id
from shared.domain.lifecycle import TRANSITIONS, AgentStatus
from shared.domain.unit_of_work import UnitOfWork, read_only, run_in_transaction
from shared.errors import ConflictError, IllegalTransitionError, InvalidInputError, NotFoundError

AT = "2026-01-02T03:04:05.000006Z"
AGENT_ID = "a" * 32


def stored(owner_uid: str = "alice") -> Agent:
    return Agent.submitted(AGENT_ID, owner_uid=owner_uid, at=AT, described={"name": "sma", "tags": ["x"]},
                           code_hash="h", extra={"bundle_key": "agents/alice/a/bundle.zip", "files": ["agent.py"]})


def moved_through(*targets: AgentStatus) -> Agent:
    agent = stored()
    for target in targets:
        agent.move_to(target, at=AT)
    return agent


def trading() -> Agent:
    return moved_through(AgentStatus.BACKTESTING, AgentStatus.BACKTESTED, AgentStatus.DEPLOYING, AgentStatus.TRADING)


def test_a_submitted_agent_is_stored_with_its_three_first_history_entries() -> None:
    agent = stored()
    assert agent.status is AgentStatus.STORED
    assert [(h["from"], h["to"]) for h in agent.history] == [
        (None, "submitted"), ("submitted", "validating"), ("validating", "stored")]
    document = agent.to_document()
    assert document["status"] == "stored" and document["bundle_key"].endswith("bundle.zip")
    assert document["latest_backtest"] is None and document["paper_session"] is None and document["deleted"] is False
    assert "standard_backtest" not in document and "backtesting_run" not in document


@pytest.mark.parametrize(("current", "target"), [
    (current, target) for current in AgentStatus for target in AgentStatus if target not in TRANSITIONS[current]])
def test_every_move_the_lifecycle_forbids_is_refused_and_changes_nothing(
    current: AgentStatus, target: AgentStatus
) -> None:
    agent = Agent.from_document(AGENT_ID, {"owner_uid": "alice", "status": current.value})
    with pytest.raises(IllegalTransitionError) as refused:
        agent.move_to(target, at=AT)
    assert refused.value.details == {"from": current.value, "to": target.value}
    assert agent.status is current and agent.history == []


def test_a_legal_move_leaves_a_history_entry_with_its_reason() -> None:
    agent = stored()
    agent.move_to(AgentStatus.BACKTESTING, at="later", reason="run-1")
    assert agent.status is AgentStatus.BACKTESTING and agent.updated_at == "later"
    assert agent.history[-1] == {"from": "stored", "to": "backtesting", "at": "later", "reason": "run-1"}


def test_a_stored_document_round_trips_unchanged_whatever_fields_it_holds() -> None:
    document: dict[str, Any] = {"owner_uid": "bob", "status": "paused", "future_field": {"nested": [1, 2]},
                                "history": [{"from": "trading", "to": "paused", "at": AT}], "tags": ["a"],
                                "paper_session": "ps-1"}
    assert Agent.from_document(AGENT_ID, document).to_document() == document
    assert stored().to_document() == Agent.from_document(AGENT_ID, stored().to_document()).to_document()


@pytest.mark.parametrize("document", [{"status": "stored"}, {"owner_uid": "a"}, {"owner_uid": "a", "status": "x"}])
def test_a_malformed_document_is_an_invalid_input(document: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError):
        Agent.from_document(AGENT_ID, document)


def test_deleting_a_trading_agent_stops_it_and_a_stored_one_keeps_its_status() -> None:
    agent = trading()
    assert agent.delete(at="t") is True
    assert (agent.status, agent.deleted, agent.deleted_at) == (AgentStatus.STOPPING, True, "t")
    assert agent.history[-1]["reason"] == "agent deleted"
    quiet = stored()
    assert quiet.delete(at="t") is False and quiet.status is AgentStatus.STORED


def test_only_the_owner_sees_an_agent_and_only_until_it_is_deleted() -> None:
    agent = stored("alice")
    assert agent.visible_to("alice") and not agent.visible_to("bob")
    agent.delete(at="t")
    assert not agent.visible_to("alice")


def test_an_unvalidated_agent_cannot_be_backtested() -> None:
    rejected = Agent.from_document(AGENT_ID, {"owner_uid": "a", "status": "rejected"})
    with pytest.raises(ConflictError):
        rejected.check_backtestable()
    stored().check_backtestable()


def test_a_run_moves_an_unproven_agent_and_its_result_decides_where_it_goes() -> None:
    agent = stored()
    agent.backtest_started("run-1", at="t1")
    assert (agent.status, agent.backtesting_run) == (AgentStatus.BACKTESTING, "run-1")
    agent.backtest_finished({"run_id": "run-1", "status": "failed"}, standard=False, at="t2")
    assert (agent.status, agent.backtesting_run) == (AgentStatus.BACKTEST_FAILED, None)
    assert agent.latest_backtest == {"run_id": "run-1", "status": "failed"} and agent.standard_backtest is None


def test_another_runs_failure_does_not_fail_the_agent_but_its_success_proves_it() -> None:
    agent = stored()
    agent.backtest_started("run-1", at="t1")
    agent.backtest_finished({"run_id": "other", "status": "failed"}, standard=True, at="t2")
    assert agent.status is AgentStatus.BACKTESTING and agent.standard_backtest == {"run_id": "other",
                                                                                   "status": "failed"}
    agent.backtest_finished({"run_id": "third", "status": "succeeded"}, standard=False, at="t3")
    assert agent.status is AgentStatus.BACKTESTED and agent.latest_backtest["run_id"] == "third"


def test_a_run_of_a_trading_agent_leaves_it_trading() -> None:
    agent = trading()
    agent.backtest_started("run-2", at="t")
    agent.backtest_finished({"run_id": "run-2", "status": "failed"}, standard=False, at="t")
    assert agent.status is AgentStatus.TRADING and agent.backtesting_run is None


def test_an_id_we_could_not_have_issued_is_reported_as_a_missing_agent() -> None:
    with pytest.raises(NotFoundError, match="agent x+ not found"):
        check_agent_id("x" * 500)
    check_agent_id(AGENT_ID)


@pytest.fixture
def documents() -> Iterator[MemoryDocumentStore]:
    store = MemoryDocumentStore()
    yield store
    store.close()


def test_a_missing_foreign_or_deleted_agent_gets_one_message(documents: MemoryDocumentStore) -> None:
    run_in_transaction(documents, lambda uow: uow.agents.add(stored("alice")))
    assert run_in_transaction(documents, lambda uow: uow.agents.owned(AGENT_ID, "alice")).name == "sma"
    for uid, agent_id in (("bob", AGENT_ID), ("alice", "b" * 32)):
        with pytest.raises(NotFoundError, match=f"^agent {agent_id} not found$"):
            run_in_transaction(documents, lambda uow, a=agent_id, u=uid: uow.agents.owned(a, u))

    def delete(uow: UnitOfWork) -> None:
        agent = uow.agents.owned(AGENT_ID, "alice")
        agent.delete(at="t")
        uow.agents.save(agent)

    run_in_transaction(documents, delete)
    with pytest.raises(NotFoundError, match=f"^agent {AGENT_ID} not found$"):
        run_in_transaction(documents, lambda uow: uow.agents.owned(AGENT_ID, "alice"))
    # Its FMEL history stays readable to its owner, and only to them.
    assert run_in_transaction(documents, lambda uow: uow.agents.owned_or_deleted(AGENT_ID, "alice")).deleted
    with pytest.raises(NotFoundError):
        run_in_transaction(documents, lambda uow: uow.agents.owned_or_deleted(AGENT_ID, "bob"))


def test_a_save_writes_only_what_a_method_changed(documents: MemoryDocumentStore) -> None:
    documents.create("agents", AGENT_ID, {"owner_uid": "alice", "status": "stored", "kept": 1})

    def start(uow: UnitOfWork) -> None:
        agent = uow.agents.owned(AGENT_ID, "alice")
        agent.backtest_started("run-1", at="t")
        uow.agents.save(agent)

    run_in_transaction(documents, start)
    after = documents.get("agents", AGENT_ID)
    assert after["kept"] == 1 and after["status"] == "backtesting" and after["backtesting_run"] == "run-1"
    assert "deleted" not in after and "latest_backtest" not in after
    assert isinstance(AgentRepository.kind, str)


def test_a_query_reads_through_the_same_check_without_a_transaction_and_cannot_write(
    documents: MemoryDocumentStore,
) -> None:
    run_in_transaction(documents, lambda uow: uow.agents.add(stored("alice")))
    reads = read_only(documents)
    assert reads.agents.owned(AGENT_ID, "alice").name == "sma"
    with pytest.raises(NotFoundError, match=f"^agent {AGENT_ID} not found$"):
        reads.agents.owned(AGENT_ID, "bob")
    agent = reads.agents.owned(AGENT_ID, "alice")
    agent.delete(at="t")
    with pytest.raises(RuntimeError, match="read-only"):
        reads.agents.save(agent)
    assert documents.get("agents", AGENT_ID)["deleted"] is False
