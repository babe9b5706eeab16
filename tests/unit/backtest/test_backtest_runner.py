"""The backtest job: trusted host in-process, the agent in the real bubblewrap sandbox, real embedded stores."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.app import Application
from shared.backtest import runner, workspace
from shared.harness.fifos import FROM_AGENT, TO_AGENT, FifoAgentLauncher
from shared.harness.sandboxed import SandboxedAgentLauncher
from shared.market.synthetic import bar_times, write_synthetic_market
from shared.schemas.messages import BacktestCompleted
from shared.schemas.topics import BACKTEST_RESULTS
from shared.services.backtests import request_backtest
from tests.unit.backtest.backtest_stack import (
    RAISING_SOURCE,
    SMA_SOURCE,
    embedded_platform,
    seed_agent,
)

SYMBOLS = ["AAA", "BBB"]
WINDOW = {"symbols": SYMBOLS, "start": "2023-01-01", "end": "2024-01-01"}
BARS = len(bar_times(datetime(2023, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC), "1Day"))


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Application]:
    p = embedded_platform(tmp_path / "farm")
    write_synthetic_market(p.warehouse, SYMBOLS, datetime(2023, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC))
    p.messages.create_subscription("results", BACKTEST_RESULTS)
    yield p
    p.close()


def queue(platform: Application, agent_id: str, source: str) -> str:
    seed_agent(platform, agent_id, source)
    return request_backtest("alice", agent_id, WINDOW, documents=platform.documents,
                            messages=platform.messages)["run_id"]


def published(platform: Application) -> list[BacktestCompleted]:
    return [BacktestCompleted.decode(m.data) for m in platform.messages.pull("results", max_messages=10)]


def test_an_sma_agent_backtest_writes_report_chart_run_row_and_one_decision_per_bar(platform) -> None:
    run_id = queue(platform, "sma", SMA_SOURCE)

    event = runner.run_job(run_id, platform, SandboxedAgentLauncher(), platform_work(platform))

    assert event.status == "succeeded" and event.error is None
    assert event.report_key == f"backtests/{run_id}/report.json"
    assert [e.run_id for e in published(platform)] == [run_id]
    report = json.loads(platform.blobs.get(event.report_key))
    assert report["metrics"]["bars"] == len(report["equity_curve"]) == BARS
    assert report["metrics"]["trades"] == len(report["trades"]) > 0
    assert platform.blobs.get(f"backtests/{run_id}/equity.png").startswith(b"\x89PNG")
    decisions = platform.warehouse.query("SELECT * FROM fmel.decisions")
    ours = sorted((d for d in decisions if d["session_id"] == run_id), key=lambda d: d["decision_point"])
    assert len(ours) == report["decisions"] == event.metrics["decisions"] == BARS
    assert [d["decision_point"] for d in ours] == list(range(1, BARS + 1))
    assert ours[-1]["portfolio_value"] == pytest.approx(report["metrics"]["final_value"], abs=1e-9)
    assert {d["mode"] for d in ours} == {"backtest"}
    [row] = [r for r in platform.warehouse.query("SELECT * FROM analytics.backtest_runs") if r["run_id"] == run_id]
    assert row["status"] == "succeeded" and row["final_value"] == pytest.approx(report["metrics"]["final_value"])


def test_an_agent_raising_in_next_fails_with_a_traceback_of_its_own_frames_only(platform) -> None:
    run_id = queue(platform, "raiser", RAISING_SOURCE)

    event = runner.run_job(run_id, platform, SandboxedAgentLauncher(), platform_work(platform))

    assert event.status == "failed" and event.report_key is None
    assert 'File "agent.py", line 7, in next' in event.error
    assert 'File "agent.py", line 10, in explode' in event.error
    assert event.error.rstrip().endswith("ZeroDivisionError: agent bug on bar 4")
    assert "backtrader" not in event.error and "shared/" not in event.error
    [row] = [r for r in platform.warehouse.query("SELECT * FROM analytics.backtest_runs") if r["run_id"] == run_id]
    assert row["status"] == "failed" and "ZeroDivisionError" in row["error"]


def platform_work(platform: Application) -> Path:
    return Path(platform.settings.data_dir) / "jobs" / "work" / "run"


def test_the_cloud_build_split_serves_an_agent_started_elsewhere_through_fifos(platform, tmp_path) -> None:
    # As on Cloud Build: the trusted host step and the agent step share only a folder.
    run_id = queue(platform, "sma", SMA_SOURCE)
    fifos = tmp_path / "channel"
    work = tmp_path / "work"
    results: list[BacktestCompleted] = []
    host = threading.Thread(target=lambda: results.append(
        runner.run_job(run_id, platform, FifoAgentLauncher(fifos, open_timeout_s=60), work)))
    host.start()
    bundle = work / "agent" / "bundle"
    while not (fifos / TO_AGENT).exists() or not (bundle / "agent.py").exists():
        host.join(0.05)
        assert host.is_alive(), "the host ended before the agent could join"
    agent = subprocess.run(
        [sys.executable, "-m", "shared.harness.agent_main", "--in-path", str(fifos / TO_AGENT),
         "--out-path", str(fifos / FROM_AGENT), "--bundle", str(bundle)],
        check=False, capture_output=True, text=True, timeout=120,
    )
    host.join(120)

    assert agent.returncode == 0, agent.stderr
    [event] = results
    assert event.status == "succeeded" and event.metrics["decisions"] == BARS
    rows = [d for d in platform.warehouse.query("SELECT * FROM fmel.decisions") if d["session_id"] == run_id]
    assert len(rows) == BARS and {(r["agent_id"], r["user_id"]) for r in rows} == {("sma", "alice")}


def test_a_run_without_a_result_is_published_as_a_failure(platform) -> None:
    run_id = queue(platform, "sma", SMA_SOURCE)
    run = workspace.load_run(platform.documents, run_id)

    event = workspace.finish(run, None, blobs=platform.blobs, warehouse=platform.warehouse,
                             messages=platform.messages)

    assert event.status == "failed" and event.error == workspace.NO_RESULT
    assert [e.status for e in published(platform)] == ["failed"]
