"""LocalOrchestrator: agent runtimes as supervised subprocesses (the embedded default).

Each runtime is `python -m runtime --session-id ID` in its own process group, with a clean
environment (no credentials: only what the embedded backend needs) and rlimits on address
space, open files and core dumps. A supervisor thread per runtime restarts it when it exits
without being asked to, with exponential backoff, at most `max_restarts` times; after that the
runtime is `failed` and `on_failed` is called (the paper-trading service marks the agent).
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
from dataclasses import dataclass, field
from pathlib import Path

from shared.adapters.local.rlimits import rlimit_preexec
from shared.domain.lifecycle import MAX_AUTOMATIC_RESTARTS
from shared.ports.orchestrator import RuntimeSpec, RuntimeStatus
from shared.venues.alpaca.config import BROKER_URL_ENV, RUNTIME_ENV_NAMES

log = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parents[3]
_KEPT_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "FARM_BACKEND", "FARM_DATA_DIR", "FARM_LOG_LEVEL", "FARM_BROKER")
ALPACA_KEYS = (*RUNTIME_ENV_NAMES, BROKER_URL_ENV)  # only a runtime trading on Alpaca gets the keys
FailedHook = Callable[[RuntimeStatus], None]
RestartHook = Callable[[RuntimeStatus], None]


@dataclass
class _Runtime:
    agent_id: str
    session_id: str
    spec: RuntimeSpec
    process: subprocess.Popen[bytes] | None = None
    state: str = "starting"
    restarts: int = 0
    exit_code: int | None = None
    stopping: bool = False
    detail: str = ""  # the last error lines of the runtime's log when it exited unasked
    wake: threading.Event = field(default_factory=threading.Event)


class LocalOrchestrator:
    """Start, stop and supervise runtimes on this machine."""

    def __init__(
        self, data_dir: Path, *, max_restarts: int = MAX_AUTOMATIC_RESTARTS, backoff_s: float = 1.0,
        on_failed: FailedHook | None = None, on_restart: RestartHook | None = None,
        python: str = sys.executable, module: str = "runtime", extra_args: tuple[str, ...] = (),
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.max_restarts = max_restarts
        self.backoff_s = backoff_s
        self.on_failed = on_failed
        self.on_restart = on_restart
        self.python = python
        self.module = module
        self.extra_args = extra_args  # e.g. ("--heartbeat-s", "0.5") in tests
        self._runtimes: dict[str, _Runtime] = {}
        self._lock = threading.Lock()

    def start(self, agent_id: str, session_id: str, spec: RuntimeSpec) -> RuntimeStatus:
        """Spawn the runtime and its supervisor; a no-op when the agent's runtime is running."""
        with self._lock:
            current = self._runtimes.get(agent_id)
            if current is not None and current.state in ("starting", "running", "restarting"):
                return self._status(current)
            rt = _Runtime(agent_id, session_id, spec)
            self._runtimes[agent_id] = rt
            self._spawn(rt)
        threading.Thread(target=self._supervise, args=(rt,), name=f"supervise-{agent_id}", daemon=True).start()
        return self._status(rt)

    def stop(self, agent_id: str, *, timeout_s: float = 20.0, session_id: str | None = None) -> RuntimeStatus:
        """SIGTERM the runtime, wait up to `timeout_s`, then kill its process group.

        With `session_id`, only if the agent's runtime runs that session.
        """
        with self._lock:
            rt = self._runtimes.get(agent_id)
            if rt is None:
                return RuntimeStatus(agent_id, "", "unknown")
            if session_id is not None and rt.session_id != session_id:
                return self._status(rt)
            rt.stopping = True
            rt.wake.set()
            process = rt.process
        if process is not None and process.poll() is None:
            _signal_group(process, signal.SIGTERM)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("runtime of %s ignored SIGTERM for %.0fs: killing it", agent_id, timeout_s)
                _signal_group(process, signal.SIGKILL)
                process.wait()
        with self._lock:
            rt.state = "stopped"
            rt.exit_code = None if process is None else process.returncode
            return self._status(rt)

    def status(self, agent_id: str) -> RuntimeStatus:
        """The runtime's state, restarts and pid."""
        with self._lock:
            rt = self._runtimes.get(agent_id)
            return RuntimeStatus(agent_id, "", "unknown") if rt is None else self._status(rt)

    def list(self) -> list[RuntimeStatus]:
        """Every runtime started by this orchestrator."""
        with self._lock:
            return [self._status(rt) for rt in self._runtimes.values()]

    def close(self, timeout_s: float = 20.0) -> None:
        """Stop every runtime (when the local stack shuts down)."""
        for status in self.list():
            if status.state in ("starting", "running", "restarting"):
                self.stop(status.agent_id, timeout_s=timeout_s)

    def child_env(self, spec: RuntimeSpec) -> dict[str, str]:
        """The runtime's environment: the embedded backend's settings; Alpaca keys only for FARM_BROKER=alpaca."""
        kept = _KEPT_ENV + (ALPACA_KEYS if os.environ.get("FARM_BROKER") == "alpaca" else ())
        env = {k: v for k, v in os.environ.items() if k in kept}
        env |= {"FARM_BACKEND": "local", "FARM_DATA_DIR": str(self.data_dir), "PYTHONUNBUFFERED": "1"}
        return env | dict(spec.env)

    def _spawn(self, rt: _Runtime) -> None:
        logs = self.data_dir / "runtimes"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"{rt.session_id}.log", "ab") as out:
            rt.process = subprocess.Popen(
                [self.python, "-m", self.module, "--session-id", rt.session_id,
                 "--supervisor-pid", str(os.getpid()), *self.extra_args],
                cwd=PROJECT_ROOT, env=self.child_env(rt.spec), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_limiter(rt.spec.memory_mb),  # noqa: PLW1509 - setrlimit only
            )
        rt.state = "running"

    def _supervise(self, rt: _Runtime) -> None:
        while True:
            process = rt.process
            assert process is not None
            code = process.wait()
            with self._lock:
                rt.exit_code = code
                if rt.stopping:
                    return
                rt.detail = last_error(self.data_dir / "runtimes" / f"{rt.session_id}.log")
                if rt.restarts >= self.max_restarts:
                    rt.state = "failed"
                    status = self._status(rt)
                    break
                rt.restarts += 1
                rt.state = "restarting"
                status = self._status(rt)
                delay = self.backoff_s * 2 ** (rt.restarts - 1)
            log.warning("runtime of %s exited with %s: restart %d in %.1fs", rt.agent_id, code, rt.restarts, delay)
            self._hook(self.on_restart, status)
            if rt.wake.wait(delay):
                return  # stopped while waiting
            with self._lock:
                if rt.stopping:
                    return
                self._spawn(rt)
        log.error("runtime of %s failed after %d restarts (exit %s)", rt.agent_id, rt.restarts, code)
        self._hook(self.on_failed, status)

    def _hook(self, hook: Callable[[RuntimeStatus], None] | None, status: RuntimeStatus) -> None:
        if hook is None:
            return
        try:
            hook(status)
        except Exception:
            log.exception("orchestrator hook failed for %s", status.agent_id)

    @staticmethod
    def _status(rt: _Runtime) -> RuntimeStatus:
        process = rt.process
        pid = process.pid if process is not None and process.poll() is None else None
        return RuntimeStatus(rt.agent_id, rt.session_id, rt.state, rt.restarts, pid, rt.exit_code,  # type: ignore[arg-type]
                             rt.detail)


def last_error(log_path: Path, max_chars: int = 2000) -> str:
    """The runtime's last error from its log: its last traceback, else its last lines."""
    try:
        with log_path.open("rb") as handle:
            handle.seek(max(0, handle.seek(0, 2) - 64 * 1024))
            lines = handle.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
    chosen = lines[starts[-1]:] if starts else lines[-5:]
    return "\n".join(line.rstrip() for line in chosen if line.strip())[-max_chars:]


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # already gone


def _limiter(memory_mb: int) -> Callable[[], None]:
    return rlimit_preexec((
        (resource.RLIMIT_AS, max(memory_mb, 256) << 20),
        (resource.RLIMIT_NOFILE, 256),
        (resource.RLIMIT_CORE, 0),
    ))


