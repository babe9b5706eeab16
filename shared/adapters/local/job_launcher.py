"""LocalJobLauncher: backtest jobs as resource-limited subprocesses, a few at a time (SPEC §6, §7).

The child runs `python -m jobs.backtest --run-id RUN` in its own session (so the whole process
group can be killed), with a clean environment that carries no credentials (no GOOGLE_*,
APCA_*, FARM_REDIS_URL, ...: only what the embedded backend needs), and with rlimits on address
space, CPU time, open files and processes. At most `max_concurrent` jobs run at once;
later launches wait in a FIFO queue (status "queued") and start as slots free. The job's
output goes to `<data>/jobs/<run>.log`, at most `JobLimits.output_bytes` per run. A watcher
thread enforces the wall-clock budget and, when the child dies or is killed without
publishing, publishes the failed BacktestCompleted itself, so a run never stays `running`.

Job ids: the pid for a job started at once, `queued-<n>` for one that had to wait.
"""

from __future__ import annotations

import logging
import os
import resource
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shared.adapters.local.bounded_log import BoundedLog
from shared.adapters.local.rlimits import rlimit_preexec
from shared.domain.clock import now_iso
from shared.errors import TransientError
from shared.ports.jobs import JobHandle, JobState
from shared.ports.messages import MessageBus
from shared.schemas.messages import BacktestCompleted, RunBacktest, RunReconciliation
from shared.services.backtests import publish_completed

log = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_BUDGET_S = 30 * 60.0
_KEPT_ENV = ("PATH", "LANG", "LC_ALL", "TZ")


def default_concurrency() -> int:
    """One job per core but one, at least one: the API and the bus keep a core."""
    return max(1, (os.cpu_count() or 2) - 1)


@dataclass(frozen=True, kw_only=True)
class JobLimits:
    """What one job may use: wall clock and CPU seconds, memory, files, processes, output."""

    budget_s: float = DEFAULT_BUDGET_S
    memory_bytes: int = 4 << 30  # address space: numpy, pandas and DuckDB reserve generously
    open_files: int = 256
    process_headroom: int = 64  # RLIMIT_NPROC counts the user's tasks: allow this many more
    output_bytes: int = 1 << 20  # stdout + stderr kept per run; the rest is counted, not kept


@dataclass
class _Job:
    run: RunBacktest | RunReconciliation
    state: JobState
    process: subprocess.Popen[bytes] | None = None
    watcher: threading.Thread | None = None
    done: threading.Event = field(default_factory=threading.Event)


class LocalJobLauncher:
    """Launch backtest jobs as sandboxed subprocesses of this process, `max_concurrent` at once."""

    def __init__(
        self,
        messages: MessageBus,
        data_dir: Path,
        *,
        limits: JobLimits | None = None,
        python: str = sys.executable,
        module: str = "jobs.backtest",
        max_concurrent: int | None = None,
        max_queued: int = 1000,
    ) -> None:
        self.messages = messages
        self.data_dir = Path(data_dir).resolve()
        self.limits = limits or JobLimits()
        self.python = python
        self.module = module  # the job's entry module; tests point it at a probe
        self.max_concurrent = max(1, max_concurrent or default_concurrency())
        self.max_queued = max_queued
        self._jobs: dict[str, _Job] = {}
        self._queue: deque[str] = deque()
        self._running = 0
        self._queued_ids = 0
        self._closed = False
        self._lock = threading.Lock()

    def launch(self, run: RunBacktest | RunReconciliation) -> JobHandle:
        """Start the job now if a slot is free, else queue it; return at once (one launcher, both kinds of job)."""
        with self._lock:
            if self._closed:
                raise TransientError(f"backtest {run.run_id} not launched: the launcher is closed")
            if self._running < self.max_concurrent and not self._queue:
                job_id = self._start(_Job(run, "running"))
            elif len(self._queue) >= self.max_queued:
                raise TransientError(f"backtest {run.run_id} not launched: {len(self._queue)} "
                                     "backtests are already waiting for a slot")
            else:
                self._queued_ids += 1
                job_id = f"queued-{self._queued_ids}"
                self._jobs[job_id] = _Job(run, "queued")
                self._queue.append(job_id)
                log.info("backtest %s queued (%d running, %d waiting)", run.run_id, self._running,
                         len(self._queue))
        return JobHandle(job_id=job_id, run_id=run.run_id, launcher="local")

    def status(self, job_id: str) -> JobState:
        """Return the job's state; "unknown" for ids this launcher never started."""
        with self._lock:
            job = self._jobs.get(job_id)
            return job.state if job else "unknown"

    def wait(self, job_id: str, timeout_s: float | None = None) -> JobState:
        """Block until the job has ended, queued time included (tests and `farm backtest`)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None:
            job.done.wait(timeout_s)
        return self.status(job_id)

    def close(self) -> None:
        """Fail the queued jobs, kill the running ones (their watchers publish them failed)."""
        with self._lock:
            self._closed = True
            cancelled = [self._jobs[job_id] for job_id in self._queue]
            self._queue.clear()
            running = [job for job in self._jobs.values() if job.process and job.watcher]
        for job in cancelled:
            self._finish(job, "failed", "cancelled: the platform stopped before this queued "
                                        "backtest could start")
        for job in running:
            assert job.process is not None
            _kill_group(job.process)
        for job in running:
            assert job.watcher is not None
            job.watcher.join(10.0)

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

    def _start(self, job: _Job, job_id: str | None = None) -> str:
        """Start `job` (the caller holds the lock); return its id."""
        logs = self.data_dir / "jobs"
        logs.mkdir(parents=True, exist_ok=True)
        process = subprocess.Popen(
            [self.python, "-m", self.module, "--run-id", job.run.run_id],
            cwd=PROJECT_ROOT,
            env=self.child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as one on budget
            preexec_fn=_limiter(self.limits, _user_tasks()),  # noqa: PLW1509 - setrlimit only
        )
        assert process.stdout is not None
        log_file = logs / f"{job.run.run_id}.log"
        output = BoundedLog(process.stdout, log_file, self.limits.output_bytes)
        job_id = job_id or str(process.pid)
        job.process, job.state = process, "running"
        job.watcher = threading.Thread(target=self._watch, args=(job, output), daemon=True,
                                       name=f"job-{job_id}")
        self._jobs[job_id] = job
        self._running += 1
        job.watcher.start()
        log.info("backtest %s launched as pid %s (budget %.0fs)", job.run.run_id, process.pid,
                 self.limits.budget_s)
        return job_id

    def _watch(self, job: _Job, output: BoundedLog) -> None:
        process, reason = job.process, None
        assert process is not None
        try:
            code = process.wait(self.limits.budget_s)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            code = process.wait()
            reason = f"stopped: the backtest ran over its time budget of {self.limits.budget_s:g}s"
        else:
            _kill_group(process)  # nothing the agent started may outlive the job
        output.finish()
        if code != 0 or reason is not None:
            reason = reason or _exit_reason(code)
            if output.capped:
                reason += f" ({output.note()})"
        with self._lock:
            self._running -= 1
        self._finish(job, "failed" if reason else "succeeded", reason)
        self._start_queued()

    def _start_queued(self) -> None:
        failed = []
        with self._lock:
            while self._queue and self._running < self.max_concurrent and not self._closed:
                job_id = self._queue.popleft()
                try:
                    self._start(self._jobs[job_id], job_id)
                except OSError as exc:  # e.g. out of processes: fail this one, try the next
                    failed.append((self._jobs[job_id], f"the backtest job could not start: {exc}"))
        for job, reason in failed:
            self._finish(job, "failed", reason)

    def _finish(self, job: _Job, state: JobState, reason: str | None) -> None:
        if state == "failed":
            log.warning("backtest %s %s", job.run.run_id, reason)
            event = BacktestCompleted(
                run_id=job.run.run_id, agent_id=job.run.agent_id, owner_uid=job.run.owner_uid,
                status="failed", finished_at=now_iso(), error=reason,
            )
            try:
                publish_completed(self.messages, event)
            except Exception:
                log.exception("could not publish the failure of backtest %s", job.run.run_id)
        with self._lock:
            job.state = state
        job.done.set()


def _exit_reason(code: int) -> str:
    if code < 0:
        name = signal.Signals(-code).name
        hints = {signal.SIGXCPU: " (CPU time limit)", signal.SIGKILL: " (likely out of memory)",
                 signal.SIGXFSZ: " (file size limit)"}
        return f"the backtest job was killed by {name}{hints.get(signal.Signals(-code), '')}"
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
