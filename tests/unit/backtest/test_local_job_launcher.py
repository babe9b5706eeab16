"""LocalJobLauncher: a real subprocess with rlimits, a clean environment and a wall-clock budget."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.adapters.local.job_launcher import JobLimits, LocalJobLauncher
from shared.adapters.local.messages import EmbeddedMessageBus
from shared.schemas.messages import BacktestCompleted, RunBacktest

PROBE = "tests.unit.backtest.sandbox_probe"


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[EmbeddedMessageBus]:
    bus = EmbeddedMessageBus(tmp_path / "messages.sqlite3")
    bus.create_topic(BacktestCompleted.TOPIC)
    bus.create_subscription("results", BacktestCompleted.TOPIC)
    yield bus
    bus.close()


def run(run_id: str) -> RunBacktest:
    return RunBacktest(run_id=run_id, agent_id="a1", owner_uid="alice", symbols=["AAA"], start="2024-01-01",
                       end="2024-02-01")


def results(bus: EmbeddedMessageBus) -> list[BacktestCompleted]:
    return [BacktestCompleted.decode(m.data) for m in bus.pull("results", max_messages=10)]


def test_the_job_gets_no_credentials_its_own_process_group_and_resource_limits(bus, tmp_path, monkeypatch) -> None:
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "APCA_API_SECRET_KEY", "FARM_REDIS_URL", "AWS_SECRET"):
        monkeypatch.setenv(name, "secret")
    launcher = LocalJobLauncher(bus, tmp_path, module=PROBE, limits=JobLimits(budget_s=60, open_files=128))

    handle = launcher.launch(run("report-1"))

    assert launcher.wait(handle.job_id, 30) == "succeeded"
    probe = json.loads((tmp_path / "probe-report-1.json").read_text())
    assert not [k for k in probe["env"] if k.startswith(("GOOGLE", "APCA", "AWS"))]
    assert "FARM_REDIS_URL" not in probe["env"] and "secret" not in probe["env"].values()
    assert probe["env"]["FARM_DATA_DIR"] == str(tmp_path.resolve())
    assert probe["pgid"] == probe["pid"] != os.getpgid(0)
    assert probe["limits"]["RLIMIT_NOFILE"] == [128, 128]
    assert probe["limits"]["RLIMIT_CPU"] == [61, 61]
    assert probe["limits"]["RLIMIT_AS"][0] == 4 << 30
    assert 0 < probe["limits"]["RLIMIT_NPROC"][0] < 1_000_000
    assert results(bus) == []  # a job that ends well publishes its own result


def test_a_job_over_its_budget_is_killed_with_its_children_and_reported_failed(bus, tmp_path) -> None:
    launcher = LocalJobLauncher(bus, tmp_path, module=PROBE, limits=JobLimits(budget_s=1.5))
    started = time.monotonic()

    handle = launcher.launch(run("loop-1"))

    assert launcher.wait(handle.job_id, 30) == "failed"
    assert time.monotonic() - started < 10
    grandchild = json.loads((tmp_path / "probe-loop-1.json").read_text())["grandchild"]
    time.sleep(0.2)
    assert not Path(f"/proc/{grandchild}").exists() or "Z" in Path(f"/proc/{grandchild}/stat").read_text().split()[2]
    [event] = results(bus)
    assert event.run_id == "loop-1" and event.status == "failed" and "time budget of 1.5s" in event.error


def test_a_job_that_dies_without_a_result_is_reported_failed_by_the_launcher(bus, tmp_path) -> None:
    launcher = LocalJobLauncher(bus, tmp_path, module=PROBE)
    handle = launcher.launch(run("crash-1"))
    assert launcher.wait(handle.job_id, 30) == "failed"
    [event] = results(bus)
    assert event.status == "failed" and "exited with code 3" in event.error
    assert launcher.status("no-such-job") == "unknown"
