"""Backtest use cases on in-memory fakes of the ports (milliseconds each): requests, idempotent
launch and record, access. Agents are built through the Agent aggregate, so no test holds an
illegal state."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from shared.adapters.memory import MemoryBlobStore, MemoryDocumentStore, MemoryMessageBus
from shared.domain.lifecycle import AgentStatus
from shared.errors import ConflictError, InvalidInputError, NotFoundError
from shared.ports.jobs import JobHandle, JobState
from shared.schemas.collections import AGENTS, BACKTESTS
from shared.schemas.messages import BacktestCompleted, RunBacktest
from shared.schemas.topics import BACKTEST_REQUESTS
from shared.services import backtests
from shared.services.backtest_views import list_backtests
from tests.fixtures.agents import agent_in


class RecordingLauncher:
    """A JobLauncher that remembers what it was asked to launch (the job itself is tested elsewhere)."""

    def __init__(self, fail: bool = False) -> None:
        self.launched: list[str] = []
        self.fail = fail

    def launch(self, run: RunBacktest) -> JobHandle:
        if self.fail:
            raise OSError("no capacity")
        self.launched.append(run.run_id)
        return JobHandle(job_id=f"job-{len(self.launched)}", run_id=run.run_id, launcher="recording")

    def status(self, job_id: str) -> JobState:
        return "running"


@dataclass
class Stores:
    """The ports the backtest commands use."""

    documents: MemoryDocumentStore
    messages: MemoryMessageBus
    blobs: MemoryBlobStore


@pytest.fixture
def platform() -> Iterator[Stores]:
    stores = Stores(MemoryDocumentStore(), MemoryMessageBus(), MemoryBlobStore())
    for topic in (BACKTEST_REQUESTS, BacktestCompleted.TOPIC):
        stores.messages.create_topic(topic)
    stores.messages.create_subscription("requests", BACKTEST_REQUESTS)
    stores.messages.create_subscription("results", BacktestCompleted.TOPIC)
    seed(stores, AgentStatus.STORED)
    yield stores
    stores.documents.close()
    stores.messages.close()


def seed(stores: Stores, status: AgentStatus) -> None:
    """Alice's agent `sma`, walked to `status` through legal moves (stored: as the agents API leaves it)."""
    agent = agent_in(status, "sma", bundle_key="agents/alice/sma/bundle.zip")
    stores.documents.set(AGENTS, "sma", agent.to_document())


def requested(platform: Stores, body: dict | None = None) -> RunBacktest:
    backtests.request_backtest("alice", "sma", body or {"symbols": ["aaa"]}, documents=platform.documents,
                               messages=platform.messages)
    [message] = platform.messages.pull("requests")
    return RunBacktest.decode(message.data)


def completed(run: RunBacktest, status: str = "succeeded") -> BacktestCompleted:
    return BacktestCompleted(run_id=run.run_id, agent_id=run.agent_id, owner_uid=run.owner_uid, status=status,
                             finished_at="2024-01-01T00:00:00Z", metrics={"sharpe": 1.2},
                             report_key=f"backtests/{run.run_id}/report.json", error=None)


def test_a_request_queues_a_run_with_platform_defaults_and_publishes_it(platform) -> None:
    run = requested(platform)
    doc = platform.documents.get(BACKTESTS, run.run_id)
    assert doc["status"] == "queued" and doc["owner_uid"] == "alice"
    assert run.symbols == ["AAA"] and run.cash == 25_000.0 and run.commission == 0.0 and run.timeframe == "1Day"
    assert run.start < run.end


@pytest.mark.parametrize("body", [
    {"symbols": "AAPL"}, {"start": "yesterday"}, {"start": "2024-01-02", "end": "2024-01-01"},
    {"cash": -5}, {"commission": 2}, {"timeframe": "1Week"}, {"leverage": 3},
])
def test_a_malformed_request_is_refused_with_a_clear_error(platform, body) -> None:
    with pytest.raises(InvalidInputError):
        backtests.request_backtest("alice", "sma", body, documents=platform.documents, messages=platform.messages)


def test_another_users_agent_cannot_be_backtested_or_read(platform) -> None:
    run = requested(platform)
    with pytest.raises(NotFoundError):
        backtests.request_backtest("bob", "sma", {}, documents=platform.documents, messages=platform.messages)
    with pytest.raises(NotFoundError):
        backtests.get_backtest("bob", run.run_id, documents=platform.documents, blobs=platform.blobs)


def test_a_redelivered_request_launches_once_and_marks_run_and_agent(platform) -> None:
    run, launcher = requested(platform), RecordingLauncher()
    for _ in range(3):
        backtests.launch_backtest(run, documents=platform.documents, messages=platform.messages, launcher=launcher)
    assert launcher.launched == [run.run_id]
    assert platform.documents.get(BACKTESTS, run.run_id)["status"] == "running"
    assert platform.documents.get(BACKTESTS, run.run_id)["job"]["job_id"] == "job-1"
    assert platform.documents.get(AGENTS, "sma")["status"] == "backtesting"


def test_a_launch_that_cannot_start_publishes_a_failure_instead_of_staying_running(platform) -> None:
    run = requested(platform)
    backtests.launch_backtest(run, documents=platform.documents, messages=platform.messages,
                              launcher=RecordingLauncher(fail=True))
    [message] = platform.messages.pull("results")
    event = BacktestCompleted.decode(message.data)
    assert event.status == "failed" and "no capacity" in event.error
    backtests.record_backtest_result(event, documents=platform.documents)
    assert platform.documents.get(AGENTS, "sma")["status"] == "backtest_failed"


def test_a_result_moves_the_agent_once_and_a_redelivery_changes_nothing(platform) -> None:
    run = requested(platform)
    backtests.launch_backtest(run, documents=platform.documents, messages=platform.messages,
                              launcher=RecordingLauncher())
    assert backtests.record_backtest_result(completed(run), documents=platform.documents) is True
    agent_after, run_after = platform.documents.get(AGENTS, "sma"), platform.documents.get(BACKTESTS, run.run_id)

    assert backtests.record_backtest_result(completed(run, "failed"), documents=platform.documents) is False
    assert platform.documents.get(AGENTS, "sma") == agent_after
    assert platform.documents.get(BACKTESTS, run.run_id) == run_after
    assert agent_after["status"] == "backtested" and agent_after["latest_backtest"]["metrics"] == {"sharpe": 1.2}
    assert agent_after["latest_backtest"]["symbols"] == ["AAA"]  # paper trading's default symbols
    assert [h["to"] for h in agent_after["history"]][-2:] == ["backtesting", "backtested"]


def test_a_rejected_agent_cannot_be_backtested(platform) -> None:
    seed(platform, AgentStatus.REJECTED)
    with pytest.raises(ConflictError):
        backtests.request_backtest("alice", "sma", {}, documents=platform.documents, messages=platform.messages)


def test_a_result_for_a_run_never_queued_is_kept_and_the_standard_summary_only_for_the_standard_run(platform) -> None:
    event = BacktestCompleted(run_id="sma-elsewhere", agent_id="sma", owner_uid="alice", status="succeeded",
                              finished_at="2024-01-01T00:00:00Z", metrics={"sharpe": 0.5})
    assert backtests.record_backtest_result(event, documents=platform.documents) is True
    run = platform.documents.get(BACKTESTS, "sma-elsewhere")
    assert run["status"] == "succeeded" and "request" not in run and run["metrics"] == {"sharpe": 0.5}
    agent = platform.documents.get(AGENTS, "sma")
    assert agent["latest_backtest"]["run_id"] == "sma-elsewhere" and "standard_backtest" not in agent
    assert "symbols" not in agent["latest_backtest"]  # it never said what it ran on


def test_only_the_owner_lists_an_agents_runs_and_reads_them(platform) -> None:
    run = requested(platform)
    page = list_backtests("alice", "sma", documents=platform.documents)
    assert [r["run_id"] for r in page.runs] == [run.run_id] and page.runs[0]["status"] == "queued"
    with pytest.raises(NotFoundError, match="^agent sma not found$"):
        list_backtests("bob", "sma", documents=platform.documents)
    with pytest.raises(NotFoundError, match=f"^backtest run {run.run_id} not found$"):
        backtests.get_backtest("bob", run.run_id, documents=platform.documents, blobs=platform.blobs)
    assert backtests.get_backtest("alice", run.run_id, documents=platform.documents,
                                  blobs=platform.blobs)["status"] == "queued"
