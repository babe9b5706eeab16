"""The agent runtime in-process on the embedded stores: decisions, fills, session document, resume."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from runtime.app import AgentRuntime, RuntimeOptions
from shared.errors import NotFoundError
from shared.schemas.collections import AGENTS, SESSIONS
from shared.schemas.messages import PortfolioSnapshotted
from shared.schemas.topics import PERFORMANCE_UPDATES
from tests.fixtures.common import make_warehouse
from tests.unit.runtime.stack import backtested_agent, local_platform, publish_bars, session_for

OPTIONS = RuntimeOptions(heartbeat_s=0.3, flush_s=0.3)


def _start(platform, session_id):
    runtime = AgentRuntime(platform, session_id, OPTIONS)
    result: dict[str, int] = {}
    thread = threading.Thread(target=lambda: result.setdefault("code", runtime.run()))
    thread.start()
    assert runtime.ready.wait(15), "runtime did not become ready"
    return runtime, thread, result


def _decisions(platform, session_id):
    rows = platform.warehouse.query("SELECT * FROM fmel.decisions WHERE session_id = @s", {"s": session_id})
    return sorted(r["decision_point"] for r in rows if r["session_id"] == session_id)


@pytest.fixture
def platform(tmp_path: Path):
    return local_platform(tmp_path / "data", make_warehouse(tmp_path))


def test_a_session_trades_records_every_decision_and_stops_cleanly(platform) -> None:
    agent_id = backtested_agent(platform)
    session_id = session_for(platform, agent_id, ["AAPL", "MSFT"])
    platform.messages.create_topic(PERFORMANCE_UPDATES)
    platform.messages.create_subscription("watch-perf", PERFORMANCE_UPDATES)
    runtime, thread, result = _start(platform, session_id)
    assert platform.documents.get(AGENTS, agent_id)["status"] == "trading"
    for i in range(9):
        publish_bars(platform.messages, "AAPL", range(i, i + 1))
        publish_bars(platform.messages, "MSFT", range(i, i + 1))
        time.sleep(0.03)
    deadline = time.monotonic() + 10
    while runtime.summary == {} and time.monotonic() < deadline and len(runtime.latencies) < 9:
        time.sleep(0.05)
    runtime.request_stop()
    thread.join(20)
    assert result["code"] == 0
    points = _decisions(platform, session_id)
    assert points == list(range(1, runtime.summary["decisions"] + 1)) and len(points) >= 9
    session = platform.documents.get(SESSIONS, session_id)
    assert session["state"] == "interrupted"  # stopped without a stop request from the API
    assert session["trades"] >= 4 and session["recent_trades"][0]["size"] == 10.0
    assert session["recent_trades"][0]["price"] > 0 and session["heartbeat_at"]
    assert session["last_decision_point"] == points[-1]
    snapshots = [PortfolioSnapshotted.decode(m.data) for m in platform.messages.pull("watch-perf", max_messages=100)]
    assert snapshots and snapshots[-1].final and snapshots[-1].session_id == session_id
    # The same snapshots, batched into the table the paper leaderboard reads.
    stored = platform.warehouse.query("SELECT * FROM analytics.paper_snapshots")
    mine = sorted((r for r in stored if r["session_id"] == session_id), key=lambda r: r["timestamp"])
    assert len(mine) == len(snapshots) and mine[-1]["portfolio_value"] == snapshots[-1].portfolio_value
    # The temporary subscription is gone after a graceful stop.
    with pytest.raises(NotFoundError):
        platform.messages.pull(f"runtime-{session_id}-market-data")


def test_a_restart_continues_numbering_and_reports_decisions_lost_by_a_kill(platform) -> None:
    agent_id = backtested_agent(platform)
    session_id = session_for(platform, agent_id, ["AAPL"])
    runtime, thread, _ = _start(platform, session_id)
    publish_bars(platform.messages, "AAPL", range(5))
    deadline = time.monotonic() + 10
    while len(runtime.latencies) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    runtime.request_stop()
    thread.join(20)
    first = _decisions(platform, session_id)
    # Pretend a killed process had made 3 more decisions that never reached the warehouse.
    counter = Path(platform.settings.data_dir) / "runtime" / f"{session_id}.point"
    counter.write_bytes(b"%20d" % (first[-1] + 3))
    runtime, thread, _ = _start(platform, session_id)
    publish_bars(platform.messages, "AAPL", range(5, 8))
    deadline = time.monotonic() + 10
    while len(runtime.latencies) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    runtime.request_stop()
    thread.join(20)
    second = [p for p in _decisions(platform, session_id) if p > first[-1]]
    assert second[0] == first[-1] + 4  # numbering resumes after the lost ones
    session = platform.documents.get(SESSIONS, session_id)
    assert session["lost_decisions"] == 3
    assert session["fmel_gaps"][0] | {"reported_at": None} == {
        "first": first[-1] + 1, "last": first[-1] + 3, "count": 3, "reported_at": None}


def test_an_agent_whose_code_fails_exits_non_zero_with_its_traceback(platform) -> None:
    code = (
        "import backtrader as bt\n\nclass Agent(bt.Strategy):\n    def next(self):\n        raise ValueError('boom')\n"
    )
    agent_id = backtested_agent(platform, code=code)
    session_id = session_for(platform, agent_id, ["AAPL"])
    _runtime, thread, result = _start(platform, session_id)
    publish_bars(platform.messages, "AAPL", range(2))
    thread.join(20)
    assert result["code"] == 1
    error = platform.documents.get(SESSIONS, session_id)["error"]
    assert "agent.py" in error and "ValueError: boom" in error


def test_an_agent_failing_in_its_init_fails_the_session_before_any_bar(platform) -> None:
    code = ("import backtrader as bt\n\nclass Agent(bt.Strategy):\n    def __init__(self):\n"
            "        raise RuntimeError('bad params')\n")
    agent_id = backtested_agent(platform, code=code)
    session_id = session_for(platform, agent_id, ["AAPL"])
    runtime = AgentRuntime(platform, session_id, OPTIONS)
    assert runtime.run() == 1  # no bar is ever published: the failure must not wait for one
    assert not runtime.ready.is_set()
    error = platform.documents.get(SESSIONS, session_id)["error"]
    assert "agent.py" in error and "RuntimeError: bad params" in error
