"""What an agent in the sandbox cannot spend, and that nothing it starts outlives it."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.adapters.local import sandbox_cgroups as cgroups
from shared.adapters.local.sandbox import BubblewrapSandbox, SandboxLimits, SandboxProcess
from tests.unit.sandbox.probes import run_probe, start_probe

MIB = 1 << 20


def wait_for(predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def processes_with(marker: str) -> list[int]:
    """Pids of live processes with `marker` as an argument (zombies have no cmdline left)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker.encode() in argv:
            found.append(int(entry))
    return found


def test_the_file_size_limit_stops_a_large_write(
        sandbox: BubblewrapSandbox, workspace: Path) -> None:
    report = run_probe(sandbox, workspace, "big-file", str(20 * MIB),
                       limits=SandboxLimits(file_size_bytes=2 * MIB))

    assert report == {"written": 2 * MIB, "error": "OSError"}  # EFBIG at the limit
    assert (workspace / "big.bin").stat().st_size == 2 * MIB


@pytest.mark.parametrize("path", ["/tmp/fill", "/dev/shm/fill"])
def test_the_private_tmp_and_shm_are_size_capped(
        sandbox: BubblewrapSandbox, workspace: Path, path: str) -> None:
    report = run_probe(sandbox, workspace, "big-file", str(20 * MIB), path,
                       limits=SandboxLimits(tmp_bytes=4 * MIB))

    assert report["error"] == "OSError" and report["written"] <= 4 * MIB  # ENOSPC


def test_one_process_cannot_reserve_more_than_its_address_space(
        sandbox: BubblewrapSandbox, workspace: Path) -> None:
    report = run_probe(sandbox, workspace, "allocate", str(600 * MIB),
                       limits=SandboxLimits(address_space_bytes=400 * MIB))

    assert report == {"allocated": False, "error": "MemoryError"}


def test_memory_is_capped_for_all_the_sandbox_processes_together(
        sandbox: BubblewrapSandbox, workspace: Path) -> None:
    if sandbox.capabilities().cgroup is None:
        pytest.skip(f"no aggregate memory limit here: {sandbox.capabilities().missing}")
    limits = SandboxLimits(memory_bytes=256 * MIB, address_space_bytes=1024 * MIB)
    process = start_probe(sandbox, workspace, "allocate-in-children", "3", str(120 * MIB),
                          limits=limits)

    out, _ = process.communicate(timeout=60)

    # 3 x 120 MiB fit each process's own limit but not the sandbox's: the kernel kills one
    assert process.returncode == 0, out
    assert signal.SIGKILL in json.loads(out.splitlines()[-1])["signals"]
    assert process.usage.oom_kills >= 1
    assert process.usage.memory_peak_bytes is not None
    assert process.usage.memory_peak_bytes <= 256 * MIB


@pytest.mark.parametrize("with_cgroups", [True, False], ids=["cgroup+rlimit", "rlimit-only"])
def test_a_fork_bomb_stops_at_the_process_limit(
        sandbox: BubblewrapSandbox, workspace: Path, with_cgroups: bool) -> None:
    box = sandbox if with_cgroups else BubblewrapSandbox(
        dataclasses.replace(sandbox.config, cgroups=False))
    if not with_cgroups and not box.capabilities().nproc:
        pytest.skip("RLIMIT_NPROC needs a uid of its own: the host is not root")

    report = run_probe(box, workspace, "fork-bomb", "200", limits=SandboxLimits(processes=16))

    assert report["error"] in ("BlockingIOError", "OSError") and report["started"] < 16


def test_a_setsid_double_fork_ends_with_the_sandbox_when_the_agent_exits(
        sandbox: BubblewrapSandbox, workspace: Path) -> None:
    marker = f"agent-child-{uuid.uuid4()}"
    process = start_probe(sandbox, workspace, "double-fork", marker, "0.5")

    assert wait_for(lambda: bool(processes_with(marker))), "the probe never forked"
    assert process.wait(30) == 0

    assert wait_for(lambda: not processes_with(marker)), "a setsid grandchild outlived the sandbox"


def test_a_setsid_double_fork_ends_with_the_sandbox_when_the_host_kills_it(
        sandbox: BubblewrapSandbox, workspace: Path) -> None:
    marker = f"agent-child-{uuid.uuid4()}"
    process = start_probe(sandbox, workspace, "double-fork", marker, "600")
    assert wait_for(lambda: bool(processes_with(marker))), "the probe never forked"

    process.kill()
    process.wait(30)

    assert wait_for(lambda: not processes_with(marker)), "a setsid grandchild outlived the sandbox"


def test_nothing_in_the_sandbox_outlives_a_host_that_dies(
        tmp_path: Path, sandbox: BubblewrapSandbox) -> None:
    marker = f"agent-child-{uuid.uuid4()}"
    host = subprocess.Popen([sys.executable, "-c", _HOST_THAT_DIES, marker, str(tmp_path)],
                            stdout=subprocess.PIPE, cwd=Path(__file__).parents[3])
    try:
        assert host.stdout is not None and host.stdout.readline().strip() == b"started"
        assert wait_for(lambda: bool(processes_with(marker))), "the sandboxed agent never started"
    finally:
        host.kill()
        host.wait()

    assert wait_for(lambda: not processes_with(marker)), "the sandbox outlived its host"
    if sandbox.capabilities().cgroup:  # its cgroup is left for the next host to remove
        assert cgroups.reap_orphans(cgroups.detect()) >= 1


_HOST_THAT_DIES = """
import sys, threading
from pathlib import Path
from shared.adapters.local import sandbox_cgroups as cgroups
from shared.adapters.local.sandbox import BubblewrapSandbox, SandboxConfig, SandboxLimits
box = BubblewrapSandbox(SandboxConfig(packages=()))
argv = [box.config.python, "-c", "import time; time.sleep(600)", sys.argv[1]]
# started from a thread that ends at once: the sandbox must live on until the host dies
spawn = threading.Thread(target=lambda: box.popen(argv, workspace=Path(sys.argv[2]),
                                                  limits=SandboxLimits()).wait_started())
spawn.start(); spawn.join()
print("started", flush=True)
threading.Event().wait()
"""


def test_a_sandbox_started_from_a_short_lived_thread_runs_to_its_end(
        sandbox: BubblewrapSandbox, workspace: Path) -> None:
    started: list[SandboxProcess] = []
    spawn = threading.Thread(target=lambda: started.append(
        start_probe(sandbox, workspace, "double-fork", f"m-{uuid.uuid4()}", "1")))
    spawn.start()
    spawn.join()
    [process] = started

    out, _ = process.communicate(timeout=30)

    assert process.returncode == 0, out  # not killed when the thread that asked for it ended
    assert json.loads(out.splitlines()[-1]) == {"done": True}


def test_each_sandbox_gets_its_own_uid_and_cgroup_and_gives_them_back(
        sandbox: BubblewrapSandbox, tmp_path: Path) -> None:
    spaces = [tmp_path / "a", tmp_path / "b"]
    for space in spaces:
        space.mkdir()
    processes = [start_probe(sandbox, space, "double-fork", f"m-{uuid.uuid4()}", "1")
                 for space in spaces]
    cgroups = [p.cgroup.dirs for p in processes if p.cgroup is not None]
    for process in processes:
        assert process.wait(30) == 0

    if os.geteuid() == 0:
        owners = {space.stat().st_uid for space in spaces}
        assert len(owners) == 2 and 0 not in owners
        assert all(p.lease is not None and p.lease._fd is None for p in processes)
    assert not [path for dirs in cgroups for path in dirs if path.exists()]
