"""`farm trade` over the local API, the agent-deleted trigger stopping a runtime, and `farm up`
stopping its runtimes on SIGTERM: real hosts, real runtime subprocesses, embedded stores."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from farm.cli import main
from farm.commands.trade import TradeApi
from farm.host import FunctionHost
from shared.adapters.local.warehouse import DuckDbWarehouse
from shared.app import Application
from shared.schemas.collections import AGENTS, SESSIONS, USERS
from shared.services.paper_trading import stop_deleted_agent
from tests.fixtures.common import free_port, kill_process, wait_for
from tests.functions.agents_stack import Tokens
from tests.unit.runtime.stack import backtested_agent, local_platform, publish_bars

REPO = Path(__file__).resolve().parents[2]
DECISIONS_SQL = "SELECT decision_point FROM fmel.decisions WHERE session_id = @s ORDER BY decision_point"



def _agent(platform: Application, *, fund: float | None) -> str:
    agent_id = uuid.uuid4().hex  # the agents API checks the id's shape
    backtested_agent(platform, agent_id=agent_id, fund=fund)
    platform.documents.update(AGENTS, agent_id, {"code_hash": "h-" + agent_id})
    return agent_id


def _session(platform: Application, agent_id: str) -> dict[str, Any]:
    session_id = (platform.documents.get(AGENTS, agent_id) or {}).get("paper_session")
    session = platform.documents.get(SESSIONS, session_id) if session_id else None
    return {"session_id": session_id, **session} if session else {}


def _decide(platform: Application, agent_id: str, bars: int = 5) -> dict[str, Any]:
    """Publish bars until the runtime has made decisions; the session document then."""
    wait_for(lambda: _session(platform, agent_id).get("state") == "trading", 15, "the runtime trading")
    publish_bars(platform.messages, "AAPL", range(bars))
    return wait_for(lambda: (s := _session(platform, agent_id)).get("decisions", 0) >= 2 and s, 15, "decisions")


@pytest.fixture
def host(tmp_path: Path) -> Iterator[tuple[str, Application, str]]:
    data_dir = tmp_path / "data"
    data_dir.mkdir(parents=True)
    warehouse = DuckDbWarehouse(data_dir / "warehouse.duckdb")
    warehouse.ensure_tables()
    platform = local_platform(data_dir, warehouse)
    served = FunctionHost(platform, port=0).start()
    try:
        yield served.url, platform, Tokens(data_dir)("alice")
    finally:
        served.stop()
        platform.close()  # runtimes first (SIGTERM, they flush), then the stores


def test_farm_trade_funds_starts_shows_and_stops_a_session(host, capsys) -> None:
    url, platform, token = host
    agent_id = _agent(platform, fund=None)
    common = ["--token", token, "--url", url]
    assert main(["trade", agent_id, "start", "--symbols", "AAPL", *common]) == 0
    out = capsys.readouterr().out
    assert "cash 25,000.00 (simulated)" in out and "deploying" in out and "AAPL (1Min)" in out
    session = _decide(platform, agent_id)
    assert main(["trade", agent_id, "status", *common]) == 0
    out = capsys.readouterr().out
    assert f"session {session['session_id']}: trading" in out and "decisions" in out
    assert main(["trade", agent_id, "start", *common]) == 2  # already trading: 409, said plainly
    assert "409" in capsys.readouterr().err
    assert main(["trade", agent_id, "stop", *common]) == 0
    out = capsys.readouterr().out
    assert f"session {session['session_id']}: stopped" in out
    assert platform.orchestrator.status(agent_id).exit_code == 0
    account = platform.documents.get("broker_accounts", session["account_id"])
    assert account["funded_total"] == 25_000.0  # funded once, though `start` ran twice


def test_farm_trade_without_a_token_or_with_an_unknown_agent_fails_clearly(host, capsys) -> None:
    url, _platform, token = host
    assert main(["trade", "nope", "status", "--url", url]) == 2
    assert "--user" in capsys.readouterr().err
    assert main(["trade", uuid.uuid4().hex, "status", "--token", token, "--url", url]) == 2
    assert "404" in capsys.readouterr().err


def test_deleting_a_trading_agent_stops_its_runtime_and_frees_its_slot(host) -> None:
    url, platform, token = host
    agent_id = _agent(platform, fund=25_000.0)
    TradeApi(url, token).start(agent_id, ["AAPL"], None)
    session = _decide(platform, agent_id)
    pid = platform.orchestrator.status(agent_id).pid
    response = requests.delete(f"{url}/api/agents/{agent_id}", headers={"Authorization": f"Bearer {token}"},
                               timeout=10)
    assert response.status_code == 204
    # The agent is `stopped` only once the runtime has exited (its session says so a moment earlier).
    wait_for(lambda: platform.documents.get(AGENTS, agent_id)["status"] == "stopped", 30,
             "the deleted agent stopped by the trigger")
    stopped = _session(platform, agent_id)
    assert stopped["state"] == "stopped"
    assert platform.orchestrator.status(agent_id).exit_code == 0 and pid
    assert not _alive(session["pid"])
    agent = platform.documents.get(AGENTS, agent_id)
    assert agent["deleted"] and agent["status"] == "stopped"
    assert session["session_id"] not in platform.documents.get(USERS, "alice")["running_sessions"]
    points = [r["decision_point"] for r in platform.warehouse.query(DECISIONS_SQL, {"s": session["session_id"]})]
    assert points == list(range(1, stopped["last_decision_point"] + 1))  # FMEL kept, nothing lost
    # Redelivery and later updates change nothing.
    orchestrator = platform.orchestrator
    assert stop_deleted_agent(agent_id, documents=platform.documents, orchestrator=orchestrator) is False
    live = _agent(platform, fund=25_000.0)
    assert stop_deleted_agent(live, documents=platform.documents, orchestrator=orchestrator) is False


def test_farm_up_stops_its_runtimes_gracefully_on_sigterm(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    seeded, agent_id, process, session = _trading_under_farm_up(data_dir)
    try:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=40)
    finally:
        kill_process(process)
    assert process.returncode == 0, output
    assert "stopped 1 paper-trading runtime(s)" in output
    assert not _alive(session["pid"])
    final = _session(seeded, agent_id)
    assert final["state"] == "interrupted"  # still wanted running: a restart resumes it
    # every decision flushed
    assert _recorded_points(data_dir, final["session_id"]) == list(range(1, final["last_decision_point"] + 1))


def test_a_killed_farm_up_takes_its_runtimes_down_and_the_next_one_resumes_them(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    seeded, agent_id, first, before = _trading_under_farm_up(data_dir)
    try:
        first.kill()  # no graceful stop for the stack: its runtime must notice on its own
        first.communicate()
        # The orphaned runtime stops itself, flushing FMEL, and says why it is not trading.
        wait_for(lambda: _session(seeded, agent_id).get("state") == "interrupted", 30, "the orphan's graceful stop")
        assert wait_for(lambda: not _alive(before["pid"]), 10, "the orphan's exit")

        second, _ = _farm_up(data_dir)
        try:
            resumed = wait_for(lambda: (s := _session(seeded, agent_id)).get("state") == "trading"
                               and s.get("pid") not in (None, before["pid"]) and s, 20, "the session resumed")
            publish_bars(seeded.messages, "AAPL", range(100, 105))
            wait_for(lambda: _session(seeded, agent_id).get("last_decision_point", 0) > resumed["last_decision_point"],
                     15, "decisions after the resume")
            second.send_signal(signal.SIGTERM)
            output, _ = second.communicate(timeout=40)
        finally:
            kill_process(second)
    finally:
        kill_process(first)
    assert "resumed 1 paper-trading session(s)" in output
    final = _session(seeded, agent_id)
    assert final["session_id"] == before["session_id"] and final["state"] == "interrupted"
    assert final["lost_decisions"] == 0
    # one numbering, nothing lost
    assert _recorded_points(data_dir, final["session_id"]) == list(range(1, final["last_decision_point"] + 1))


def _recorded_points(data_dir: Path, session_id: str) -> list[int]:
    """The decision points of the session that reached the stack's warehouse, in order."""
    warehouse = DuckDbWarehouse(data_dir / "warehouse.duckdb")
    return [r["decision_point"] for r in warehouse.query(DECISIONS_SQL, {"s": session_id})]


def _trading_under_farm_up(data_dir: Path) -> tuple[Application, str, subprocess.Popen[str], dict[str, Any]]:
    """A funded agent paper trading under a `farm up` of `data_dir`, decisions under way.

    The platform seeded beside the stack, the agent, the stack's process and the session.
    """
    seeded = local_platform(data_dir, None)  # farm up owns the warehouse: never built here
    agent_id = _agent(seeded, fund=25_000.0)
    process, url = _farm_up(data_dir)
    try:
        TradeApi(url, Tokens(data_dir)("alice")).start(agent_id, ["AAPL"], None)
        return seeded, agent_id, process, _decide(seeded, agent_id)
    except BaseException:
        kill_process(process)
        raise


def _farm_up(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    """Start `farm up` on `data_dir` and wait until it answers; the process and its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FARM_")}
    env |= {"FARM_BACKEND": "local", "FARM_DATA_DIR": str(data_dir)}
    process = subprocess.Popen([sys.executable, "-m", "farm", "up", "--no-market-data", "--port", str(port)],
                               cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url), 20, "farm up")
    except AssertionError:
        process.kill()
        raise
    return process, url


def _answers(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
