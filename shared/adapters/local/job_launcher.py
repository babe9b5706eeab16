"""LocalJobLauncher: the backtest job as a resource-limited subprocess (SPEC §6, §7).

The child runs `python -m jobs.backtest --run-id RUN` in its own session (so the whole process
group can be killed), with a clean environment that carries no credentials (no GOOGLE_*,
APCA_*, FARM_REDIS_URL, ...: only what the embedded backend needs), and with rlimits on address
space, CPU time, open files and processes. A watcher thread enforces the wall-clock budget and,
when the child dies or is killed without publishing, publishes the failed BacktestCompleted
itself, so a run never stays `running`.
"""

from __future__ import annotations

import logging
import os
import resource
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shared.adapters.local.rlimits import rlimit_preexec
from shared.domain.clock import now_iso
from shared.ports.jobs import JobHandle, JobState
from shared.ports.messages import MessageBus
from shared.schemas.messages import BacktestCompleted, RunBacktest
from shared.services.backtests import publish_completed

log = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_BUDGET_S = 30 * 60.0
_KEPT_ENV = ("PATH", "LANG", "LC_ALL", "TZ")


@dataclass(frozen=True, kw_only=True)
class JobLimits:
    """What one job may use: wall clock and CPU seconds, memory, open files, extra processes."""

    budget_s: float = DEFAULT_BUDGET_S
    memory_bytes: int = 4 << 30  # address space: numpy, pandas and DuckDB reserve generously
    open_files: int = 256
    process_headroom: int = 64  # RLIMIT_NPROC counts the user's tasks: allow this many more


class LocalJobLauncher:
    """Launch backtest jobs as sandboxed subprocesses of this process."""

    def __init__(
        self,
        messages: MessageBus,
        data_dir: Path,
        *,
        limits: JobLimits | None = None,
        python: str = sys.executable,
        module: str = "jobs.backtest",
    ) -> None:
        self.messages = messages
        self.data_dir = Path(data_dir).resolve()
        self.limits = limits or JobLimits()
        self.python = python
        self.module = module  # the job's entry module; tests point it at a probe
        self._jobs: dict[str, tuple[subprocess.Popen[bytes], threading.Thread]] = {}
        self._states: dict[str, JobState] = {}
        self._lock = threading.Lock()

    def launch(self, run: RunBacktest) -> JobHandle:
        """Start the job and its budget watcher; return at once."""
        logs = self.data_dir / "jobs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"{run.run_id}.log", "ab") as out:
            process = subprocess.Popen(
                [self.python, "-m", self.module, "--run-id", run.run_id],
                cwd=PROJECT_ROOT,
                env=self.child_env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as one on budget
                preexec_fn=_limiter(self.limits, _user_tasks()),  # noqa: PLW1509 - setrlimit only
            )
        job_id = str(process.pid)
        watcher = threading.Thread(target=self._watch, args=(job_id, process, run), name=f"job-{job_id}", daemon=True)
        with self._lock:
            self._jobs[job_id] = (process, watcher)
            self._states[job_id] = "running"
        watcher.start()
        log.info("backtest %s launched as pid %s (budget %.0fs)", run.run_id, job_id, self.limits.budget_s)
        return JobHandle(job_id=job_id, run_id=run.run_id, launcher="local")

    def status(self, job_id: str) -> JobState:
        """Return the job's state; "unknown" for ids this launcher never started."""
        with self._lock:
            return self._states.get(job_id, "unknown")

    def wait(self, job_id: str, timeout_s: float | None = None) -> JobState:
        """Block until the job's watcher is done (tests and `farm backtest` use it)."""
        with self._lock:
            entry = self._jobs.get(job_id)
        if entry is not None:
            entry[1].join(timeout_s)
        return self.status(job_id)

    def close(self) -> None:
        """Kill every running job (their watchers then publish them as failed)."""
        with self._lock:
            entries = list(self._jobs.values())
        for process, _ in entries:
            _kill_group(process)
        for _, watcher in entries:
            watcher.join(10.0)

    def child_env(self) -> dict[str, str]:
        """The job's whole environment: no credentials, only the embedded backend's settings."""
        env = {k: os.environ[k] for k in _KEPT_ENV if k in os.environ}
        home = self.data_dir / "jobs" / "home"
        home.mkdir(parents=True, exist_ok=True)
        return env | {
            "HOME": str(home),
            "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
            "PYTHONPATH": str(PROJECT_ROOT),
            "PYTHONDONTWRITEBYTECODE": "1",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(home),
            "FARM_BACKEND": "local",
            "FARM_DATA_DIR": str(self.data_dir),
        }

    def _watch(self, job_id: str, process: subprocess.Popen[bytes], run: RunBacktest) -> None:
        reason = None
        try:
            code = process.wait(self.limits.budget_s)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            code = process.wait()
            reason = f"stopped: the backtest ran over its time budget of {self.limits.budget_s:g}s"
        else:
            _kill_group(process)  # nothing the agent started may outlive the job
        state: JobState = "succeeded" if code == 0 and reason is None else "failed"
        if state == "failed":
            reason = reason or _exit_reason(code)
            log.warning("backtest %s (pid %s) %s", run.run_id, job_id, reason)
            event = BacktestCompleted(
                run_id=run.run_id, agent_id=run.agent_id, owner_uid=run.owner_uid, status="failed",
                finished_at=now_iso(), error=reason,
            )
            try:
                publish_completed(self.messages, event)
            except Exception:
                log.exception("could not publish the failure of backtest %s", run.run_id)
        with self._lock:
            self._states[job_id] = state


def _exit_reason(code: int) -> str:
    if code < 0:
        name = signal.Signals(-code).name
        hint = " (CPU time limit)" if -code == signal.SIGXCPU else " (likely out of memory)" if -code == signal.SIGKILL else ""
        return f"the backtest job was killed by {name}{hint}"
    return f"the backtest job exited with code {code} without a result"


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # already gone


def _user_tasks() -> int:
    """Count this user's processes and threads: RLIMIT_NPROC is checked against that total."""
    uid, total = os.getuid(), 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid == uid:
                total += len(os.listdir(f"/proc/{entry.name}/task"))
        except OSError:
            continue
    return total


def _limiter(limits: JobLimits, tasks: int) -> Callable[[], None]:
    return rlimit_preexec((
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_CPU, max(1, int(limits.budget_s) + 1)),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_NPROC, tasks + limits.process_headroom),
        (resource.RLIMIT_CORE, 0),
    ))
