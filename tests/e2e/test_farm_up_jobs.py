"""`farm up` and its backtest jobs: none outlives the stack, none starts before the market is seeded."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from farm.commands.up import shutdown
from farm.host import FunctionHost
from shared.app import gated_launcher
from shared.errors import TransientError
from shared.ports.jobs import JobHandle
from shared.schemas.messages import RunBacktest
from tests.app_factory import embedded_app
from tests.fixtures.common import free_port

PROBE = "tests.unit.backtest.sandbox_probe"  # `loop-*` runs: spins forever with a sleeping grandchild


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie is dead, only not yet reaped by its parent


def _wait_for(predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_stopping_the_stack_kills_a_running_backtest_job_and_everything_it_started(tmp_path: Path) -> None:
    platform = embedded_app(tmp_path / "data")
    host = FunctionHost(platform, port=free_port()).start()
    launcher = platform.job_launcher  # the very instance on_backtest_request launches with
    launcher.module = PROBE  # type: ignore[attr-defined]
    handle = launcher.launch(RunBacktest(run_id="loop-1", agent_id="a1", owner_uid="alice", symbols=["AAA"],
                                         start="2024-01-01", end="2024-02-01"))
    probe = Path(platform.settings.data_dir) / "probe-loop-1.json"
    assert _wait_for(probe.exists), "the job never started"
    job, grandchild = int(handle.job_id), json.loads(probe.read_text())["grandchild"]
    assert _alive(job) and _alive(grandchild)

    shutdown(platform, host, None)

    assert _wait_for(lambda: not _alive(job) and not _alive(grandchild)), "a backtest job outlived the stack"
    assert launcher.status(handle.job_id) == "failed"
    with pytest.raises(RuntimeError, match="closed"):  # a closed application builds no launcher again
        platform.job_launcher  # noqa: B018 - the access is the test


def test_a_backtest_launch_waits_until_the_market_is_seeded(tmp_path: Path, monkeypatch) -> None:
    platform = embedded_app(tmp_path / "data")
    seeded = threading.Event()
    platform.hold_launches_until(seeded, "the synthetic market to be written")
    launcher = platform.job_launcher
    launcher.inner.module = PROBE  # type: ignore[attr-defined]
    run = RunBacktest(run_id="report-1", agent_id="a1", owner_uid="alice", symbols=["AAA"], start="2024-01-01",
                      end="2024-02-01")
    handles: list[JobHandle] = []
    launching = threading.Thread(target=lambda: handles.append(launcher.launch(run)))
    launching.start()
    time.sleep(0.5)
    assert not handles and not list((tmp_path / "data").glob("jobs/*.log")), "launched before the market was seeded"

    seeded.set()
    launching.join(10.0)
    assert launcher.inner.wait(handles[0].job_id, 10.0) == "succeeded"  # type: ignore[attr-defined]
    platform.close()
    assert launcher.status(handles[0].job_id) == "succeeded"  # closing killed nothing that had ended


def test_a_launch_still_gated_after_the_timeout_is_a_retryable_error(tmp_path: Path, monkeypatch) -> None:
    platform = embedded_app(tmp_path / "data")
    monkeypatch.setattr(gated_launcher, "GATE_TIMEOUT_S", 0.1)
    platform.hold_launches_until(threading.Event(), "the synthetic market to be written")
    run = RunBacktest(run_id="report-2", agent_id="a1", owner_uid="alice", symbols=["AAA"], start="2024-01-01",
                      end="2024-02-01")
    with pytest.raises(TransientError, match="still waiting for the synthetic market"):
        platform.job_launcher.launch(run)
    platform.close()
