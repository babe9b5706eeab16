"""Job-launcher port: start a backtest job somewhere isolated and ask how it is doing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from shared.schemas.messages import RunBacktest

JobState = Literal["queued", "running", "succeeded", "failed", "unknown"]


@dataclass(frozen=True)
class JobHandle:
    """What a launcher returns: its own id for the job (a pid, a Cloud Build id) and the run."""

    job_id: str
    run_id: str
    launcher: str  # "local", "cloud-build"


class JobLauncher(Protocol):
    """Run `python -m jobs.backtest --run-id ...` in a sandbox: a subprocess or a Cloud Build."""

    def launch(self, run: RunBacktest) -> JobHandle:
        """Start the job for `run` and return at once; TransientError when it cannot start now."""
        ...

    def status(self, job_id: str) -> JobState:
        """Where the job is; "unknown" for an id this launcher never started or has forgotten."""
        ...

    def close(self) -> None:
        """Stop what this process supervises: local jobs are killed (and reported failed); cloud jobs run on."""
        ...
