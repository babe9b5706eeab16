"""LocalReconciliationLauncher: reconciliation jobs as limited subprocesses, like backtest jobs.

The same launcher as the backtest jobs' (`LocalJobLauncher`: a clean environment, rlimits, a
wall-clock budget, a few at a time, the rest queued), running `python -m jobs.reconcile`. When
a job dies, is killed or is cancelled before storing its outcome, `on_failed` is told (the
platform marks the reconciliation failed) instead of a backtest result being published.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.adapters.local.job_launcher import JobLimits, LocalJobLauncher
from shared.ports.jobs import JobState
from shared.ports.messages import MessageBus

JOB_MODULE = "jobs.reconcile"
log = logging.getLogger(__name__)


class LocalReconciliationLauncher(LocalJobLauncher):
    """Launch `python -m jobs.reconcile --run-id <reconciliation id>` subprocesses."""

    def __init__(self, messages: MessageBus, data_dir: Path, *, on_failed: Callable[[str, str], None],
                 limits: JobLimits | None = None, max_concurrent: int | None = None) -> None:
        super().__init__(messages, data_dir, limits=limits, module=JOB_MODULE, max_concurrent=max_concurrent)
        self.on_failed = on_failed  # (reconciliation id, reason)

    def _finish(self, job: Any, state: JobState, reason: str | None) -> None:
        # Replaces the backtest launcher's result message: a reconciliation ends on its document.
        if state == "failed":
            try:
                self.on_failed(job.run.run_id, reason or "the reconciliation job failed")
            except Exception:
                log.exception("could not mark reconciliation %s failed", job.run.run_id)
        with self._lock:
            job.state = state
        job.done.set()
