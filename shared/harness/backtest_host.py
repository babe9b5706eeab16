"""The trusted host of a backtest: run the agent sandboxed, score what its orders earn.

    agent process (sandbox) <--socket--> conductor (trusted) --pipe--> host cerebro (this process)

The host encodes the run's bars as frames, starts the agent through an `AgentLauncher` (the
sandbox) and the conductor, and runs the platform's cerebro (`shared.backtest.engine`) with an
`AgentProxy` placing the agent's orders one step behind the agent. Metrics, trades and the FMEL
record come from this process only. docs/trust-boundary.md has the why.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pandas as pd

from shared.backtest.engine import EngineResult, FmelContext, add_fmel, build_cerebro, collect
from shared.domain.money import DEFAULT_CASH
from shared.domain.timeframe import Timeframe
from shared.harness import frames as framing
from shared.harness import wire
from shared.harness.links import NO_RESULT, RelayedReplies
from shared.harness.output import CappedOutput
from shared.harness.puppet import AgentFailed, AgentProxy

log = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class AgentProcess(Protocol):
    """The agent's process as the host controls it."""

    pid: int
    returncode: int | None

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


class AgentLauncher(Protocol):
    """Starts the agent's side (`shared.harness.agent_main`) in a sandbox."""

    def start(self, *, bundle_dir: Path, output_fd: int, cpu: int | None = None) -> tuple[AgentProcess, int, int]:
        """Start it with stdout/stderr on `output_fd` (on `cpu` alone, if given); return it and the
        host's (to, from) channel fds."""
        ...


@dataclass
class HarnessRun:
    """A finished sandboxed backtest: the host's result, or the agent's failure, and its output."""

    result: EngineResult | None
    error: str | None
    output: str
    violations: int = 0
    dropped_reads: int = 0
    startup_s: float = 0.0  # from starting the sandbox to the agent's `ready` (its bundle loaded)


def run_backtest(
    launcher: AgentLauncher,
    bundle_dir: Path,
    frames: Mapping[str, pd.DataFrame],
    *,
    scratch: Path,
    timeframe: str = Timeframe.DAY,
    cash: float = DEFAULT_CASH,
    commission: float = 0.0,
    fmel: FmelContext | None = None,
) -> HarnessRun:
    """Backtest the agent in `bundle_dir` over `frames`; `scratch` is a trusted working folder."""
    cerebro = build_cerebro(frames, timeframe=timeframe, cash=cash, commission=commission)
    symbols = [data._name for data in cerebro.datas]
    used = {symbol: frames[symbol] for symbol in symbols}
    scratch.mkdir(parents=True, exist_ok=True)
    output = CappedOutput(scratch / "agent-output.log")
    started = time.perf_counter()
    agent_cpu, host_cpus = split_cpus()
    try:
        agent, to_agent_w, from_agent_r = launcher.start(bundle_dir=bundle_dir, output_fd=output.write_fd,
                                                         cpu=agent_cpu)
    finally:
        output.close_writer()
    # The frames hold every bar of the run: they stay in the trusted folder, outside the agent's.
    frames_path = scratch / "frames.bin"
    try:
        hello = framing.hello(symbols, timeframe=timeframe, cash=cash, commission=commission, mode="backtest")
        frames_path.write_bytes(framing.encode_run(hello, used)[0])
        read_fd, write_fd = os.pipe()
        conductor = subprocess.Popen(
            [sys.executable, "-m", "shared.harness.conductor", "--frames", str(frames_path),
             "--to-agent", str(to_agent_w), "--from-agent", str(from_agent_r), "--host-fd", str(write_fd)],
            pass_fds=(to_agent_w, from_agent_r, write_fd), cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL,
            env={"PATH": os.environ.get("PATH", "/usr/bin"), "PYTHONPATH": str(PROJECT_ROOT)},
        )
    except BaseException:
        _end(agent, "agent", 0.0)  # nothing will ever feed it: do not leave it waiting
        raise
    finally:
        for fd in {to_agent_w, from_agent_r}:  # one socket is both ends over TCP
            os.close(fd)
    os.close(write_fd)
    before = _pin(conductor.pid, agent_cpu, host_cpus)
    link = RelayedReplies(wire.Endpoint(read_fd, max_message=wire.MAX_AGENT_MESSAGE + 1024))
    result = error = None
    violations = dropped = 0
    startup = 0.0
    try:
        link.wait_ready()
        startup = time.perf_counter() - started
        cerebro.addstrategy(AgentProxy, link=link)
        if fmel is not None:
            add_fmel(cerebro, fmel, reported=True)
        strategy = cerebro.run()[0]
        link.drain()
        result = collect(strategy, timeframe, fmel=fmel is not None)
        violations = strategy.violations
        dropped = strategy.analyzers.fmel._reported.dropped if fmel is not None else 0
    except AgentFailed as exc:
        error = exc.message[-8000:]
    finally:
        if before is not None:
            os.sched_setaffinity(0, before)
        os.close(read_fd)
        grace = 5.0 if error is None else 0.5  # a failed agent has nothing left worth waiting for
        _end(agent, "agent", grace)
        _end(conductor, "conductor", grace)
        frames_path.unlink(missing_ok=True)
    if error == NO_RESULT:
        usage = getattr(agent, "usage", None)  # the sandbox's cgroup counters, where it has them
        error = describe_exit(agent.returncode, oom=bool(usage and usage.oom_kills))
    return HarnessRun(result, error, output.finish(), violations, dropped, startup)


def split_cpus() -> tuple[int | None, set[int]]:
    """One CPU for the agent and its conductor, the others for the host, when there are two or more.

    The agent and the conductor hand every step to each other: on one CPU that is a cheap switch,
    across CPUs a wake-up of the other one (measured 13.4 s vs 20.3 s for 100k minute bars). The
    host runs behind them on the rest.
    """
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return None, set(allowed)
    return allowed[-1], set(allowed[:-1])


def _pin(conductor: int, agent_cpu: int | None, host_cpus: set[int]) -> set[int] | None:
    """Pin the conductor beside the agent and this process on the other CPUs; return the old mask."""
    if agent_cpu is None:
        return None
    before = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(conductor, {agent_cpu})
        os.sched_setaffinity(0, host_cpus)
    except OSError:
        return before  # a CPU set that changed meanwhile: run unpinned, slower but correct
    return before


def describe_exit(code: int | None, *, oom: bool = False) -> str:
    """Say why the agent's process ended early, from its exit status (bwrap reports 128 + signal)."""
    if oom:
        return "the agent's process ran out of memory (over its sandbox's memory limit) and was killed"
    number = -code if code is not None and code < 0 else code - 128 if code is not None and code > 128 else None
    if number is None:
        return NO_RESULT if code in (None, 0) else f"the agent's process exited with code {code} before finishing"
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    hint = {"SIGXCPU": " (over its CPU time budget)", "SIGKILL": " (out of memory, or over its time budget)",
            "SIGXFSZ": " (a file over the size limit)", "SIGSEGV": " (a crash)"}.get(name, "")
    return f"the agent's process was killed by {name}{hint}"


def _end(process: AgentProcess, name: str, grace_s: float = 5.0) -> None:
    """Wait briefly for a process that should be finishing, then kill it (and its group)."""
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        log.warning("%s process %s did not exit; killing it", name, process.pid)
        try:
            if process.pid <= 0:  # an agent in another step or pod: nothing of ours to kill
                raise ProcessLookupError
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            process.kill()
        process.wait()
