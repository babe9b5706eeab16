"""What a sandbox may use (SandboxLimits), binds (SandboxConfig), and what a machine enforces."""

from __future__ import annotations

import dataclasses
import resource
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True, kw_only=True)
class SandboxLimits:
    """What one sandbox may use; memory and processes are aggregate where cgroups allow."""

    memory_bytes: int = 2 << 30  # cgroup: everything in the sandbox together, /tmp included
    address_space_bytes: int = 4 << 30  # per process: numpy and pandas reserve generously
    cpu_seconds: int = 30 * 60  # per process
    file_size_bytes: int = 64 << 20  # the largest file any process may write
    open_files: int = 256
    processes: int = 64  # tasks, threads included: cgroup pids.max and RLIMIT_NPROC
    tmp_bytes: int = 64 << 20  # size of the private /tmp, and of /dev/shm
    # False: the workspace is read-only, so the size-capped /tmp is all the disk the sandbox can
    # fill (an agent needs to read its bundle, not to write beside it).
    workspace_writable: bool = True


@dataclass(frozen=True, kw_only=True)
class SandboxConfig:
    """What every sandbox of this host binds, and where the host keeps sandbox state."""

    packages: tuple[Path, ...] = (PROJECT_ROOT / "shared",)  # read-only at SOURCE_ROOT/<name>
    hidden: tuple[Path, ...] = (PROJECT_ROOT / ".farm",)  # never bound, nor any dir above them
    python: str = sys.executable
    state_dir: Path = Path("/run/farm-sandbox")  # staging mount point and uid leases (root)
    uid_first: int = 600_000
    uid_count: int = 4096
    seccomp: bool = True
    cgroups: bool = True


@dataclass(frozen=True)
class SandboxCapabilities:
    """What this machine enforces; `missing` says in words what it cannot."""

    bwrap_version: str
    uid: str
    cgroup: str | None
    seccomp: bool
    nproc: bool
    missing: tuple[str, ...] = ()


def within_hard_limits(limits: SandboxLimits) -> SandboxLimits:
    """Lower per-process limits to this process's own hard limits: a child cannot raise them.

    A host that is itself limited (a local backtest job's CPU budget, a runtime's address space)
    starts its sandboxes within those limits rather than failing to start them.
    """
    def hard(kind: int, wanted: int) -> int:
        ceiling = resource.getrlimit(kind)[1]
        return wanted if ceiling == resource.RLIM_INFINITY else min(wanted, ceiling)

    return dataclasses.replace(
        limits,
        cpu_seconds=hard(resource.RLIMIT_CPU, limits.cpu_seconds),
        address_space_bytes=hard(resource.RLIMIT_AS, limits.address_space_bytes),
        file_size_bytes=hard(resource.RLIMIT_FSIZE, limits.file_size_bytes),
        open_files=hard(resource.RLIMIT_NOFILE, limits.open_files),
    )
