"""Agent use cases on in-memory fakes of the ports (the adapters pass the same contract suites):
lifecycle, pages with tied timestamps, deletes of trading agents, the idempotent automatic
backtest, rate-limit settings, the trigger."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from functions import _platform
from functions.on_agent_created import on_agent_created
from shared.adapters.local.memory_cache import InProcessRateLimiter
from shared.adapters.memory import MemoryBlobStore, MemoryDocumentStore, MemoryMessageBus
from shared.app import Application
from shared.domain.lifecycle import AgentStatus
from shared.domain.unit_of_work import run_in_transaction
from shared.errors import InvalidInputError, NotFoundError, RateLimitedError, SettingsError
from shared.events import encode_document_event
from shared.ports.documents import DocumentChange, DocumentStore
from shared.schemas.messages import RunBacktest
from shared.services import agents, auto_backtest, rate_limits
from shared.services.agent_fields import AgentFields
from shared.settings import Settings
from tests.functions.agents_stack import agent_source

FIXED = "2026-01-02T03:04:05.000006Z"


@pytest.fixture
def stores() -> Iterator[tuple[MemoryDocumentStore, MemoryBlobStore, MemoryMessageBus]]:
    documents, bus = MemoryDocumentStore(), MemoryMessageBus()
    bus.create_topic(RunBacktest.TOPIC)
    bus.create_subscription("watch", RunBacktest.TOPIC)
    yield documents, MemoryBlobStore(), bus
    documents.close()
    bus.close()


def _submit(stores, uid: str, variant: int, clock=lambda: FIXED) -> str:
    documents, blobs, _ = stores
    cmd = agents.SubmitAgent(owner_uid=uid, upload=agent_source(variant).encode(),
                             fields=AgentFields.parse(f"agent {variant}"))
    return agents.submit_agent(cmd, documents=documents, blobs=blobs, clock=clock).agent_id


def _move(documents: DocumentStore, agent_id: str, *targets: AgentStatus) -> None:
    """Walk an agent through legal lifecycle moves (tests never write a raw status)."""

    def walk(uow) -> None:
        agent = uow.agents.require(agent_id)
        for target in targets:
            agent.move_to(target, at=FIXED)
        uow.agents.save(agent)

    run_in_transaction(documents, walk)


def test_pages_never_repeat_or_skip_agents_created_in_the_same_microsecond(stores) -> None:
    created = {_submit(stores, "alice", i) for i in range(7)}  # all share created_at
    seen: list[str] = []
    token = None
    while True:
        page = agents.list_agents(agents.ListAgents("alice", 3, token), documents=stores[0])
        seen += [a["agent_id"] for a in page.agents]
        if (token := page.next_page_token) is None:
            break
    assert sorted(seen) == sorted(created) and len(seen) == 7


def test_deleting_a_trading_agent_moves_it_to_stopping_and_asks_for_the_runtime_to_stop(stores) -> None:
    documents = stores[0]
    agent_id = _submit(stores, "alice", 1)
    _move(documents, agent_id, AgentStatus.BACKTESTING, AgentStatus.BACKTESTED, AgentStatus.DEPLOYING,
          AgentStatus.TRADING)
    deleted = agents.delete_agent(agents.DeleteAgent("alice", agent_id), documents=documents)
    assert (deleted.status, deleted.stop_runtime) == ("stopping", True)
    doc = documents.get("agents", agent_id)
    assert doc["deleted"] is True and doc["history"][-1]["to"] == "stopping"
    with pytest.raises(NotFoundError):
        agents.get_agent(documents, "alice", agent_id)


def test_a_stored_agent_delete_keeps_its_status_and_needs_no_runtime_stop(stores) -> None:
    agent_id = _submit(stores, "alice", 2)
    deleted = agents.delete_agent(agents.DeleteAgent("alice", agent_id), documents=stores[0])
    assert (deleted.status, deleted.stop_runtime) == ("stored", False)


def test_the_automatic_backtest_is_queued_once_and_redelivery_republishes_the_same_run(stores) -> None:
    documents, _, bus = stores
    agent_id = _submit(stores, "alice", 3)
    agent = documents.get("agents", agent_id)
    first = auto_backtest.request_auto_backtest(agent_id, agent, documents=documents, messages=bus,
                                                clock=lambda: "2026-01-02T00:00:00Z")
    again = auto_backtest.request_auto_backtest(agent_id, agent, documents=documents, messages=bus,
                                                clock=lambda: "2027-05-05T00:00:00Z")
    assert first == again  # the stored request wins over the later clock
    assert (first.start, first.end, first.cash) == ("2024-01-03", "2026-01-02", 25_000.0)
    runs = documents.query("backtests", [])
    assert [run_id for run_id, _ in runs] == [f"{agent_id}-auto"]
    received = bus.pull("watch", max_messages=10, timeout_s=1.0)
    assert [RunBacktest.decode(m.data) for m in received] == [first, first]


def test_every_agent_gets_the_same_recorded_standard_evaluation_whenever_it_is_submitted(stores) -> None:
    documents, _, bus = stores
    early, late = _submit(stores, "alice", 11), _submit(stores, "bob", 12)
    first = auto_backtest.request_auto_backtest(early, documents.get("agents", early), documents=documents,
                                                messages=bus, clock=lambda: "2026-01-02T00:00:00Z")
    # A year later, another user's agent is judged on the very same window, universe and cash.
    second = auto_backtest.request_auto_backtest(late, documents.get("agents", late), documents=documents,
                                                 messages=bus, clock=lambda: "2027-01-02T00:00:00Z")
    same = ("symbols", "start", "end", "timeframe", "cash", "commission")
    assert {k: getattr(first, k) for k in same} == {k: getattr(second, k) for k in same}
    recorded = documents.get("settings", "standard-evaluation")
    assert (recorded["start"], recorded["end"]) == (first.start, first.end) == ("2024-01-03", "2026-01-02")
    for agent_id in (early, late):
        run = documents.get("backtests", f"{agent_id}-auto")
        assert run["standard"] is True and run["evaluation"]["evaluation_id"] == recorded["evaluation_id"]


def test_no_automatic_backtest_for_an_agent_that_is_not_stored(stores) -> None:
    documents, _, bus = stores
    rejected = {"status": "rejected", "owner_uid": "a", "created_at": FIXED}
    assert auto_backtest.request_auto_backtest("x", rejected, documents=documents, messages=bus) is None
    with pytest.raises(InvalidInputError):
        auto_backtest.request_auto_backtest("x", {"status": "stored"}, documents=documents,
                                            messages=bus)


def test_the_trigger_acknowledges_a_malformed_agent_document_without_raising(
    stores, caplog: pytest.LogCaptureFixture
) -> None:
    documents, blobs, bus = stores
    platform = Application(Settings(backend="local"), documents=documents, messages=bus, blobs=blobs)
    previous = _platform.use_platform(platform)
    try:
        change = DocumentChange("created", "agents", "abc", None, {"status": "stored"}, "c1", 1.0)
        on_agent_created(encode_document_event(change, project="p"))
    finally:
        _platform.use_platform(previous)
    assert "dropping event c1" in caplog.text
    assert documents.query("backtests", []) == []


@pytest.mark.parametrize("entry", ["requests", "requests=0/60", "bogus=1/60", "requests=1/0"])
def test_bad_rate_limit_settings_are_refused_naming_the_variable(entry: str) -> None:
    with pytest.raises(SettingsError, match="FARM_RATE_LIMITS"):
        rate_limits.parse_limits((entry,))


def test_limits_default_to_the_spec_and_overrides_apply_per_class() -> None:
    limits = rate_limits.parse_limits(("submissions=2/30",))
    assert limits["requests"] == rate_limits.Limit(100, 60.0)
    assert limits["submissions"] == rate_limits.Limit(2, 30.0)
    assert (limits["backtests"].count, limits["paper_starts"].count) == (5, 3)


def test_enforce_refuses_past_the_limit_with_a_retry_delay() -> None:
    limiter, limits = InProcessRateLimiter(), rate_limits.parse_limits(("submissions=2/60",))
    for _ in range(2):
        rate_limits.enforce(limiter, "alice", ("submissions",), limits)
    with pytest.raises(RateLimitedError) as refused:
        rate_limits.enforce(limiter, "alice", ("submissions",), limits)
    assert 0 < refused.value.retry_after_s <= 60
    rate_limits.enforce(limiter, "bob", ("submissions",), limits)  # per user


@pytest.mark.parametrize(
    ("name", "tags"), [("", None), (" ", None), ("x" * 101, None), ("ok", "bad tag!"), ("ok", 5)]
)
def test_bad_names_and_tags_are_invalid_input(name: str, tags: object) -> None:
    with pytest.raises(InvalidInputError):
        AgentFields.parse(name, None, tags)
