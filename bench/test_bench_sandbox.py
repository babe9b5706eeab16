"""Start-up cost of the local sandbox per job (run: `make bench`, or this file with `-s`).

Times the same commands started plainly and inside `BubblewrapSandbox` (uid lease, staging
mount namespace, cgroups, seccomp, bubblewrap), interleaved so both see the same machine load:
`/usr/bin/true` (the sandbox alone), `python -c pass` and `python -c "import backtrader"` (what
an agent's process pays before its first bar). Reports medians in milliseconds.
"""

from __future__ import annotations

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


def timed(start: Callable[[], subprocess.Popen[bytes]]) -> float:
    began = time.perf_counter()
    process = start()
    assert process.wait(60) == 0
    return (time.perf_counter() - began) * 1000


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
    samples: dict[str, dict[str, list[float]]] = {
        name: {"plain": [], "sandbox": []} for name in COMMANDS}
    for _ in range(REPEATS):
        for name, argv in COMMANDS.items():
            samples[name]["plain"].append(timed(lambda argv=argv: subprocess.Popen(argv)))
            samples[name]["sandbox"].append(timed(lambda argv=argv: sandbox.popen(
                argv, workspace=workspace, limits=limits)))

    print(f"\nsandbox start-up ({caps.bwrap_version}, cgroup {caps.cgroup}, "
          f"seccomp {caps.seccomp}); median of {REPEATS}, ms")
    for name, runs in samples.items():
        plain, boxed = statistics.median(runs["plain"]), statistics.median(runs["sandbox"])
        record_property(name, {"plain_ms": round(plain, 1), "sandbox_ms": round(boxed, 1)})
        print(f"  {name:28s} plain {plain:7.1f}   sandboxed {boxed:7.1f}   "
              f"cost {boxed - plain:+6.1f}")
    true = samples["true"]
    overhead = statistics.median(true["sandbox"]) - statistics.median(true["plain"])
    assert overhead < 500, "the sandbox should cost well under half a second per job"
