"""Start-up cost of the local sandbox per job (run: `make bench`, or this file with `-s`).

Times the same commands started plainly and inside `BubblewrapSandbox` (uid lease, staging
mount namespace, cgroups, seccomp, bubblewrap), interleaved so both see the same machine load:
`/usr/bin/true` (the sandbox alone), `python -c pass` and `python -c "import backtrader"` (what
an agent's process pays before its first bar). Reports medians in milliseconds.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.adapters.local.sandbox import BubblewrapSandbox, SandboxLimits
from shared.errors import SandboxUnavailableError

pytestmark = pytest.mark.benchmark

REPEATS = 15
COMMANDS = {
    "true": ["/usr/bin/true"],
    "python -c pass": [sys.executable, "-c", "pass"],
    "python + import backtrader": [sys.executable, "-c", "import backtrader"],
}


def timed(start: Callable[[], subprocess.Popen[bytes]]) -> tuple[float, float]:
    """Return (wall ms, CPU ms of every process the start ran) for one start-to-exit."""
    cpu_before, began = _children_cpu(), time.perf_counter()
    process = start()
    assert process.wait(60) == 0
    return (time.perf_counter() - began) * 1000, (_children_cpu() - cpu_before) * 1000


def _children_cpu() -> float:
    # reaped descendants only: bubblewrap reaps the sandbox's, then this process reaps bubblewrap
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_sandbox_start_up_cost(
        tmp_path: Path, record_property: Callable[[str, object], None]) -> None:
    sandbox = BubblewrapSandbox()
    try:
        caps = sandbox.check()
    except SandboxUnavailableError as exc:
        pytest.skip(f"no bubblewrap sandbox here: {exc.message}")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    limits = SandboxLimits()
    samples: dict[str, dict[str, list[tuple[float, float]]]] = {
        name: {"plain": [], "sandbox": []} for name in COMMANDS}
    for _ in range(REPEATS):
        for name, argv in COMMANDS.items():
            samples[name]["plain"].append(timed(lambda argv=argv: subprocess.Popen(argv)))
            samples[name]["sandbox"].append(timed(lambda argv=argv: sandbox.popen(
                argv, workspace=workspace, limits=limits)))

    load = os.getloadavg()[0]
    print(f"\nsandbox start-up ({caps.bwrap_version}, cgroup {caps.cgroup}, "
          f"seccomp {caps.seccomp}); median of {REPEATS}, ms; load average {load:.1f}")
    for name, runs in samples.items():
        (plain, plain_cpu), (boxed, boxed_cpu) = (
            tuple(statistics.median(column) for column in zip(*runs[kind], strict=True))
            for kind in ("plain", "sandbox"))
        record_property(name, {"plain_ms": round(plain, 1), "sandbox_ms": round(boxed, 1),
                               "plain_cpu_ms": round(plain_cpu, 1),
                               "sandbox_cpu_ms": round(boxed_cpu, 1)})
        print(f"  {name:28s} wall: plain {plain:7.1f} sandboxed {boxed:7.1f} (+{boxed - plain:.1f})"
              f"   cpu: plain {plain_cpu:6.1f} sandboxed {boxed_cpu:6.1f}")
    true = samples["true"]
    overhead = statistics.median(w for w, _ in true["sandbox"]) - statistics.median(
        w for w, _ in true["plain"])
    assert overhead < 500, "the sandbox should cost well under half a second per job"
