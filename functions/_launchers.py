"""The backtest job launcher a function process shares: built on first use, kept, closed on shutdown.

The local launcher supervises the job subprocesses it started (budget watchers, process
groups), so every launch in one process must go through the same instance, and the local
stack must close it when it stops: a backtest job must not outlive the host that launched it.
"""

from __future__ import annotations

import threading

from shared.bootstrap import Platform, job_launcher
from shared.errors import TransientError
from shared.ports.jobs import JobHandle, JobLauncher, JobState
from shared.schemas.messages import RunBacktest

GATE_TIMEOUT_S = 60.0
_lock = threading.Lock()
_launchers: dict[int, tuple[Platform, JobLauncher]] = {}
_gates: dict[int, tuple[Platform, threading.Event, str]] = {}


class GatedLauncher:
    """A launcher whose launches wait until `ready` is set (e.g. the market data is written)."""

    def __init__(self, inner: JobLauncher, ready: threading.Event, reason: str) -> None:
        self.inner, self.ready, self.reason = inner, ready, reason

    def launch(self, run: RunBacktest) -> JobHandle:
        """Wait for the gate, then launch; a gate still shut after the timeout is worth a retry."""
        if not self.ready.wait(GATE_TIMEOUT_S):
            raise TransientError(f"backtest {run.run_id} not launched: still waiting for {self.reason}")
        return self.inner.launch(run)

    def status(self, job_id: str) -> JobState:
        """The inner launcher's job state."""
        return self.inner.status(job_id)

    def close(self) -> None:
        """Close the inner launcher (kills its local jobs)."""
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()


def hold_launches_until(platform: Platform, ready: threading.Event, reason: str) -> None:
    """Make `platform`'s launches wait for `ready`: call before the launcher is first used."""
    with _lock:
        _gates[id(platform)] = (platform, ready, reason)


def launcher_for(platform: Platform) -> JobLauncher:
    """Return the platform's job launcher, built on first use (never at import time) and kept."""
    with _lock:
        entry = _launchers.get(id(platform))
        if entry is None or entry[0] is not platform:
            launcher = job_launcher(platform)
            gate = _gates.get(id(platform))
            if gate is not None and gate[0] is platform:
                launcher = GatedLauncher(launcher, gate[1], gate[2])
            entry = _launchers[id(platform)] = (platform, launcher)
        return entry[1]


def close_launcher(platform: Platform) -> int:
    """Kill every job `platform`'s launcher still runs; return how many were running."""
    with _lock:
        entry = _launchers.pop(id(platform), None)
        _gates.pop(id(platform), None)
    if entry is None or entry[0] is not platform:
        return 0
    close = getattr(entry[1], "close", None)  # Cloud Build jobs belong to the cloud: nothing to close
    if not callable(close):
        return 0
    # The JobLauncher port has no list(): count the local launcher's own jobs for the log line.
    inner = entry[1].inner if isinstance(entry[1], GatedLauncher) else entry[1]
    running = sum(1 for job_id in getattr(inner, "_jobs", {}) if inner.status(job_id) == "running")
    close()
    return running
