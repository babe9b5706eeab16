"""Paper trading end to end on the embedded stack: real runtime subprocesses under LocalOrchestrator.

backtested agent -> funded simulated account -> start -> first FMEL decision (timed) -> fills ->
session document -> stop (exit 0, last decisions in the warehouse); SIGTERM in a burst loses no
decision; kill -9 is restarted automatically, numbering resumes and the lost batch is reported.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.adapters.local.orchestrator import LocalOrchestrator
from shared.adapters.local.warehouse import DuckDbWarehouse
from shared.app import Application
from shared.schemas.collections import AGENTS, SESSIONS
from shared.services import paper_trading
from shared.services.paper_trading import StartPaperTrading
from shared.venues.simulated.accounts import SimulatedAccounts
from tests.fixtures.common import wait_for
from tests.unit.runtime.stack import backtested_agent, local_platform, publish_bars

DECISIONS_SQL = "SELECT decision_point FROM fmel.decisions WHERE session_id = @s ORDER BY decision_point"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Application, LocalOrchestrator]]:
    data_dir = tmp_path / "data"
    data_dir.mkdir(parents=True)
    warehouse = DuckDbWarehouse(data_dir / "warehouse.duckdb")
    warehouse.ensure_tables()
    platform = local_platform(data_dir, warehouse)
    orchestrator = LocalOrchestrator(
        data_dir, backoff_s=0.2, extra_args=("--heartbeat-s", "0.5", "--flush-s", "0.5"),
        on_failed=lambda s: paper_trading.mark_failed(platform.documents, s.session_id, reason="failed"),
    )
    yield platform, orchestrator
    orchestrator.close(timeout_s=10)


def _start(platform: Application, orchestrator: LocalOrchestrator, agent_id: str) -> str:
    session = paper_trading.start_paper_trading(
        StartPaperTrading(owner_uid="alice", agent_id=agent_id, symbols=["AAPL"]),
        documents=platform.documents, accounts=SimulatedAccounts(platform.documents), orchestrator=orchestrator,
    )
    return session["session_id"]



def _points(platform: Application, session_id: str) -> list[int]:
    return [r["decision_point"] for r in platform.warehouse.query(DECISIONS_SQL, {"s": session_id})]


def _trading(platform: Application, session_id: str) -> bool:
    return (platform.documents.get(SESSIONS, session_id) or {}).get("state") == "trading"


def test_start_trade_and_stop_with_the_first_decision_in_under_ten_seconds(stack) -> None:
    platform, orchestrator = stack
    agent_id = backtested_agent(platform)
    started = time.monotonic()
    session_id = _start(platform, orchestrator, agent_id)
    i = 0

    def first_decision() -> bool:
        nonlocal i
        if _trading(platform, session_id):
            publish_bars(platform.messages, "AAPL", range(i, i + 1))
            i += 1
        return bool(_points(platform, session_id))

    wait_for(first_decision, 10, "the first FMEL decision")
    elapsed = time.monotonic() - started
    print(f"\nstart -> first FMEL decision in the warehouse: {elapsed:.2f}s")
    assert elapsed < 10
    assert platform.documents.get(AGENTS, agent_id)["status"] == "trading"
    publish_bars(platform.messages, "AAPL", range(i, i + 8))
    session = wait_for(lambda: (s := platform.documents.get(SESSIONS, session_id)) and s.get("trades", 0) >= 2 and s,
                       10, "fills on the session document")
    assert session["recent_trades"][0]["size"] == 10 and session["portfolio_value"] > 0
    process_pid = orchestrator.status(agent_id).pid
    stopped = paper_trading.stop_paper_trading("alice", agent_id, documents=platform.documents,
                                               orchestrator=orchestrator)
    assert stopped["state"] == "stopped"
    assert orchestrator.status(agent_id).exit_code == 0 and process_pid
    assert platform.documents.get(AGENTS, agent_id)["status"] == "stopped"
    final = platform.documents.get(SESSIONS, session_id)
    assert _points(platform, session_id) == list(range(1, final["last_decision_point"] + 1))


def test_sigterm_in_a_burst_loses_no_decision_and_kill_9_resumes_numbering(stack) -> None:
    platform, orchestrator = stack
    agent_id = backtested_agent(platform)
    session_id = _start(platform, orchestrator, agent_id)
    wait_for(lambda: _trading(platform, session_id), 10, "trading")
    publish_bars(platform.messages, "AAPL", range(300))  # a burst
    wait_for(lambda: (platform.documents.get(SESSIONS, session_id) or {}).get("last_decision_point", 0) > 20, 15,
             "decisions under way")
    # kill -9: the automatic restart resumes numbering; what was never flushed is reported.
    os.kill(orchestrator.status(agent_id).pid, signal.SIGKILL)
    wait_for(lambda: orchestrator.status(agent_id).restarts == 1 and orchestrator.status(agent_id).pid, 10, "restart")
    wait_for(lambda: (platform.documents.get(SESSIONS, session_id) or {}).get("pid")
             == orchestrator.status(agent_id).pid, 15, "the restarted runtime trading")
    publish_bars(platform.messages, "AAPL", range(300, 600))
    time.sleep(1.0)
    # SIGTERM in the middle of the burst: every decision made is recorded.
    os.kill(orchestrator.status(agent_id).pid, signal.SIGTERM)
    wait_for(lambda: orchestrator.status(agent_id).restarts == 2, 20, "the graceful exit")
    orchestrator.stop(agent_id)
    session = platform.documents.get(SESSIONS, session_id)
    points = _points(platform, session_id)
    lost = session["lost_decisions"]
    print(f"\nkill -9 lost {lost} decisions (gaps {session['fmel_gaps']}); recorded {len(points)}, "
          f"last point {session['last_decision_point']}")
    assert len(points) == len(set(points))  # numbering never repeats
    assert points[-1] == session["last_decision_point"]  # SIGTERM: nothing made was lost
    assert len(points) + lost == points[-1]  # every number is recorded or reported lost
