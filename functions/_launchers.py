"""The backtest job launcher a function process shares: built on first use, kept, closed on shutdown.

The local launcher supervises the job subprocesses it started (budget watchers, process
groups), so every launch in one process must go through the same instance, and the local
stack must close it when it stops: a backtest job must not outlive the host that launched it.
"""

from __future__ import annotations

import threading

from shared.bootstrap import Platform, job_launcher
from shared.ports.jobs import JobLauncher

_lock = threading.Lock()
_launchers: dict[int, tuple[Platform, JobLauncher]] = {}


def launcher_for(platform: Platform) -> JobLauncher:
    """Return the platform's job launcher, built on first use (never at import time) and kept."""
    with _lock:
        entry = _launchers.get(id(platform))
        if entry is None or entry[0] is not platform:
            entry = _launchers[id(platform)] = (platform, job_launcher(platform))
        return entry[1]


def close_launcher(platform: Platform) -> int:
    """Kill every job `platform`'s launcher still runs; return how many were running."""
    with _lock:
        entry = _launchers.pop(id(platform), None)
    if entry is None or entry[0] is not platform:
        return 0
    close = getattr(entry[1], "close", None)  # Cloud Build jobs belong to the cloud: nothing to close
    if not callable(close):
        return 0
    # The JobLauncher port has no list(): count the local launcher's own jobs for the log line.
    running = sum(1 for job_id in getattr(entry[1], "_jobs", {}) if entry[1].status(job_id) == "running")
    close()
    return running
