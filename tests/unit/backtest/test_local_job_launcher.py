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
from shared.errors import TransientError
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


def fake_python(tmp_path: Path, body: str) -> str:
    """A stand-in for the job's interpreter: a shell script that ignores `-m module --run-id`."""
    script = tmp_path / "fake-python"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return str(script)


def test_launches_beyond_the_cap_wait_in_a_queue_and_start_in_order_as_slots_free(
        bus, tmp_path) -> None:
    launcher = LocalJobLauncher(bus, tmp_path, module=PROBE, max_concurrent=1,
                                limits=JobLimits(budget_s=1.5))

    first = launcher.launch(run("loop-1"))  # holds the only slot until its budget ends
    second, third = launcher.launch(run("report-2")), launcher.launch(run("report-3"))

    assert launcher.status(first.job_id) == "running"
    assert launcher.status(second.job_id) == launcher.status(third.job_id) == "queued"
    assert launcher.wait(third.job_id, 30) == "succeeded"
    assert launcher.status(second.job_id) == "succeeded"
    assert launcher.status(first.job_id) == "failed"
    started = [(tmp_path / f"probe-report-{n}.json").stat().st_mtime_ns for n in (2, 3)]
    assert started == sorted(started)  # first in, first out
    [event] = results(bus)
    assert event.run_id == "loop-1"  # the queued jobs published nothing: they ran


def test_closing_the_launcher_fails_the_queued_jobs_with_a_reason_and_kills_the_running_one(
        bus, tmp_path) -> None:
    launcher = LocalJobLauncher(bus, tmp_path, module=PROBE, max_concurrent=1)
    running = launcher.launch(run("loop-1"))
    queued = launcher.launch(run("report-2"))

    launcher.close()

    assert launcher.status(running.job_id) == launcher.status(queued.job_id) == "failed"
    events = {event.run_id: event for event in results(bus)}
    assert set(events) == {"loop-1", "report-2"}
    assert "cancelled" in events["report-2"].error and "queued" in events["report-2"].error
    assert not (tmp_path / "probe-report-2.json").exists()  # it never ran
    with pytest.raises(TransientError, match="closed"):
        launcher.launch(run("report-3"))


def test_a_full_queue_is_a_retryable_error(bus, tmp_path) -> None:
    launcher = LocalJobLauncher(bus, tmp_path, module=PROBE, max_concurrent=1, max_queued=1)
    launcher.launch(run("loop-1"))
    launcher.launch(run("report-2"))
    try:
        with pytest.raises(TransientError, match="already waiting"):
            launcher.launch(run("report-3"))
    finally:
        launcher.close()


def test_a_job_that_floods_its_output_keeps_only_the_cap_and_says_how_much_it_dropped(
        bus, tmp_path) -> None:
    flood = fake_python(tmp_path, "head -c 50000000 /dev/zero | tr '\\0' x; exit 0")
    launcher = LocalJobLauncher(bus, tmp_path, python=flood, limits=JobLimits(output_bytes=100_000))

    handle = launcher.launch(run("flood-1"))

    assert launcher.wait(handle.job_id, 60) == "succeeded"  # never stalled on a full pipe
    text = (tmp_path / "jobs" / "flood-1.log").read_bytes()
    assert text.startswith(b"x" * 100_000) and len(text) < 100_200
    assert text.endswith(b"\n[farm] output capped at 100000 bytes: 49900000 bytes dropped\n")


def test_a_failed_job_over_its_output_cap_says_so_in_its_error(bus, tmp_path) -> None:
    flood = fake_python(tmp_path, "head -c 300000 /dev/zero; exit 3")
    launcher = LocalJobLauncher(bus, tmp_path, python=flood, limits=JobLimits(output_bytes=1000))

    assert launcher.wait(launcher.launch(run("flood-2")).job_id, 60) == "failed"

    [event] = results(bus)
    assert event.error == ("the backtest job exited with code 3 without a result "
                           "(output capped at 1000 bytes: 299000 bytes dropped)")
    assert (tmp_path / "jobs" / "flood-2.log").stat().st_size < 1100
