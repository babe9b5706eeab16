"""The JobLauncher port's contract, over the local launcher and Cloud Build's (against a local fake).

Both launch the same stand-in job (`tests.unit.backtest.sandbox_probe`: locally a real limited
subprocess; on the fake Cloud Build a build that ends as the probe would), chosen by run id:
`report-*` does its work and exits 0, `crash-*` fails, `loop-*` never ends.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.adapters.gcp.cloud_build import CloudBuildJobLauncher
from shared.adapters.local.job_launcher import LocalJobLauncher
from shared.adapters.memory import MemoryMessageBus
from shared.ports.jobs import JobLauncher, JobState
from shared.schemas.messages import BacktestCompleted, RunBacktest
from tests.fakes.cloud_build_server import PROJECT, FakeCloudBuild

PROBE = "tests.unit.backtest.sandbox_probe"
ENDED: tuple[JobState, ...] = ("succeeded", "failed")
ORDER: tuple[JobState, ...] = ("queued", "running", "succeeded")  # failed may follow queued or running


@pytest.fixture(params=["local", "cloud-build"])
def launcher(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobLauncher]:
    if request.param == "local":
        bus = MemoryMessageBus()
        bus.create_topic(BacktestCompleted.TOPIC)  # where the local launcher reports a failed job
        local = LocalJobLauncher(bus, tmp_path / "data", module=PROBE)
        yield local
        local.close()
    else:
        with FakeCloudBuild() as fake:
            cloud = CloudBuildJobLauncher(PROJECT, region="europe-west1", bucket="farm-fake-bundles",
                                          endpoint=fake.endpoint)
            yield cloud
            cloud.close()


def run(run_id: str) -> RunBacktest:
    return RunBacktest(run_id=run_id, agent_id="agent-1", owner_uid="alice", symbols=["AAPL"],
                       start="2024-01-01", end="2024-02-01")


def states_until_ended(launcher: JobLauncher, job_id: str, timeout_s: float = 30.0) -> list[JobState]:
    """Every distinct state `status` reports, in order, until the job has ended."""
    seen: list[JobState] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = launcher.status(job_id)
        if not seen or seen[-1] != state:
            seen.append(state)
        if state in ENDED:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {seen[-1]} after {timeout_s}s")


def test_a_launch_returns_at_once_with_a_handle_naming_the_run(launcher: JobLauncher) -> None:
    started = time.monotonic()
    handle = launcher.launch(run("report-handle"))
    assert time.monotonic() - started < 5.0
    assert handle.run_id == "report-handle" and handle.job_id and handle.launcher in ("local", "cloud-build")
    assert launcher.status(handle.job_id) in ("queued", "running", "succeeded")


def test_a_job_that_does_its_work_moves_forward_to_succeeded(launcher: JobLauncher) -> None:
    handle = launcher.launch(run("report-ok"))
    seen = states_until_ended(launcher, handle.job_id)
    assert seen[-1] == "succeeded"
    assert [ORDER.index(state) for state in seen] == sorted(ORDER.index(state) for state in seen)


def test_a_job_that_fails_ends_failed(launcher: JobLauncher) -> None:
    handle = launcher.launch(run("crash-1"))
    assert states_until_ended(launcher, handle.job_id)[-1] == "failed"


def test_a_job_that_never_ends_is_reported_running(launcher: JobLauncher) -> None:
    handle = launcher.launch(run("loop-1"))
    deadline = time.monotonic() + 30.0
    while launcher.status(handle.job_id) != "running":
        assert time.monotonic() < deadline, "the job never ran"
        time.sleep(0.05)
    assert launcher.status(handle.job_id) == "running"


def test_an_id_the_launcher_never_started_is_unknown(launcher: JobLauncher) -> None:
    assert launcher.status("0f0e0d0c-never-started") == "unknown"


def test_each_launch_is_its_own_job(launcher: JobLauncher) -> None:
    first, second = launcher.launch(run("report-a")), launcher.launch(run("crash-b"))
    assert first.job_id != second.job_id
    assert (states_until_ended(launcher, first.job_id)[-1], states_until_ended(launcher, second.job_id)[-1]) == (
        "succeeded", "failed")


def test_closing_twice_is_harmless_and_ended_jobs_stay_as_they_ended(launcher: JobLauncher) -> None:
    handle = launcher.launch(run("report-closed"))
    assert states_until_ended(launcher, handle.job_id)[-1] == "succeeded"
    launcher.close()
    launcher.close()
    assert launcher.status(handle.job_id) == "succeeded"
