"""A job launcher whose launches wait for a gate: `farm up` opens it once the market data is written."""

from __future__ import annotations

import threading

from shared.errors import TransientError
from shared.ports.jobs import JobHandle, JobLauncher, JobState
from shared.schemas.messages import RunBacktest

GATE_TIMEOUT_S = 60.0


class GatedLauncher:
    """Launch through `inner` once `ready` is set; a gate still shut after the timeout is worth a retry."""

    def __init__(self, inner: JobLauncher, ready: threading.Event, reason: str) -> None:
        self.inner, self.ready, self.reason = inner, ready, reason

    def launch(self, run: RunBacktest) -> JobHandle:
        """Wait for the gate, then launch."""
        if not self.ready.wait(GATE_TIMEOUT_S):
            raise TransientError(f"backtest {run.run_id} not launched: still waiting for {self.reason}")
        return self.inner.launch(run)

    def status(self, job_id: str) -> JobState:
        """The inner launcher's job state."""
        return self.inner.status(job_id)

    def close(self) -> None:
        """Close the inner launcher (kills its local jobs)."""
        self.inner.close()
