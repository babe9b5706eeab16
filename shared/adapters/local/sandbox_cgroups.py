"""Aggregate memory and process limits for one sandbox: a cgroup of its own (v1 or v2).

rlimits are per process (three processes may each use the whole address-space limit); a cgroup
counts everything the sandbox runs together. The sandbox's cgroup is made under this process's
own cgroup, so the machine's accounting of the host still covers it. Where no controller is
writable, `CgroupSupport.reason` says why and the sandbox runs with rlimits only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)
GROUP = "farm-sandbox"
_CONTROLLERS = ("memory", "pids")


@dataclass(frozen=True)
class CgroupSupport:
    """Where sandbox cgroups go: version "v1", "v2" or None, and per controller its parent dir."""

    version: str | None
    parents: dict[str, Path] = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True)
class CgroupUsage:
    """What a sandbox's cgroup saw: peak memory, OOM kills, forks refused at the pids limit."""

    memory_peak_bytes: int | None = None
    oom_kills: int = 0
    pids_limit_hits: int = 0


def detect(proc: Path = Path("/proc/self")) -> CgroupSupport:
    """Find writable memory and pids controllers for this process (v1 first, then v2)."""
    mounts = _cgroup_mounts(proc / "mountinfo")
    own = _own_paths(proc / "cgroup")
    v1 = {c: mounts["v1"][c] / own.get(c, "/").lstrip("/") / GROUP for c in _CONTROLLERS
          if c in mounts["v1"]}
    if v1 and all(_writable_dir(p) for p in v1.values()):
        return CgroupSupport("v1", v1)
    if "v2" in mounts:
        support = _detect_v2(mounts["v2"][""], own.get("", "/"))
        if support.version:
            return support
        return CgroupSupport(None, reason=support.reason)
    where = f" ({', '.join(sorted(str(p) for p in v1.values()))} not writable)" if v1 else ""
    return CgroupSupport(None, reason=f"no writable cgroup memory/pids controller{where}")


class SandboxCgroup:
    """One sandbox's cgroup in every supported controller: limits, usage, clean removal."""

    def __init__(self, support: CgroupSupport, name: str, *, memory_bytes: int,
                 processes: int) -> None:
        self.version = support.version
        self.dirs: list[Path] = []
        try:
            for parent in dict.fromkeys(support.parents.values()):
                self.dirs.append(_make(parent, name, support.version))
            self._limit(support, name, memory_bytes, processes)
        except OSError:
            self.release()
            raise

    def _limit(self, support: CgroupSupport, name: str, memory_bytes: int, processes: int) -> None:
        memory, pids = (support.parents[c] / name if c in support.parents else None
                        for c in _CONTROLLERS)
        if memory is not None and self.version == "v1":
            _write(memory / "memory.limit_in_bytes", memory_bytes)
            _write_optional(memory / "memory.memsw.limit_in_bytes", memory_bytes)  # no swap escape
        elif memory is not None:
            _write(memory / "memory.max", memory_bytes)
            _write_optional(memory / "memory.swap.max", 0)
            _write_optional(memory / "memory.oom.group", 1)  # an OOM ends the whole sandbox
        if pids is not None:
            _write(pids / "pids.max", processes)

    @property
    def procs_files(self) -> list[Path]:
        """The files a process writes its pid to, to join this cgroup."""
        return [path / "cgroup.procs" for path in self.dirs]

    def usage(self) -> CgroupUsage:
        """Read what the sandbox used (call before `release`)."""
        peak, ooms, pid_hits = None, 0, 0
        for path in self.dirs:
            if self.version == "v1":
                peak = _read_int(path / "memory.max_usage_in_bytes", peak)
                ooms += _read_key(path / "memory.oom_control", "oom_kill")
            else:
                peak = _read_int(path / "memory.peak", peak)
                ooms += _read_key(path / "memory.events", "oom_kill")
            pid_hits += _read_key(path / "pids.events", "max")
        return CgroupUsage(memory_peak_bytes=peak, oom_kills=ooms, pids_limit_hits=pid_hits)

    def release(self, timeout_s: float = 5.0) -> None:
        """Kill whatever is left in the cgroup and remove it."""
        deadline = time.monotonic() + timeout_s
        for path in self.dirs:
            _remove(path, deadline)
            with contextlib.suppress(OSError):  # the shared parent goes once the last one has
                path.parent.rmdir()


def reap_orphans(support: CgroupSupport) -> int:
    """Kill and remove sandbox cgroups whose host process is gone; return how many.

    A host that died while starting a sandbox can leave it running (see SandboxProcess): its
    cgroup, named `<host pid>-<n>`, still holds it, and the next host to start ends it.
    """
    reaped = 0
    for parent in dict.fromkeys(support.parents.values()):
        for path in parent.iterdir() if parent.is_dir() else ():
            host = path.name.split("-", 1)[0]
            if path.is_dir() and host.isdigit() and not Path(f"/proc/{host}").exists():
                _remove(path, time.monotonic() + 5.0)
                reaped += 1
    return reaped


def _make(parent: Path, name: str, version: str | None) -> Path:
    """Create `parent/name`, the parent too if the last sandbox of another host removed it."""
    for _ in range(3):
        try:
            parent.mkdir(exist_ok=True)
            if version == "v2":
                _write(parent / "cgroup.subtree_control", "+memory +pids")
            (parent / name).mkdir()
            return parent / name
        except FileNotFoundError:
            continue  # the parent went away between the two mkdirs: make it again
    raise OSError(f"cannot create the sandbox cgroup {parent / name}")


def _remove(path: Path, deadline: float) -> None:
    with contextlib.suppress(OSError):
        (path / "cgroup.kill").write_text("1")  # v2: one write kills them all
    while path.exists():
        for pid in _read_pids(path / "cgroup.procs"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        try:
            path.rmdir()
        except OSError:
            if time.monotonic() > deadline:
                log.warning("sandbox cgroup %s still busy: left behind", path)
                return
            time.sleep(0.01)  # killed tasks leave the cgroup asynchronously


def _detect_v2(mount: Path, own: str) -> CgroupSupport:
    parent = mount / own.lstrip("/")
    enabled = _words(parent / "cgroup.subtree_control")
    if not set(_CONTROLLERS) <= enabled:
        if own != "/":  # a non-root cgroup with processes may not enable controllers for children
            return CgroupSupport(None, reason=f"cgroup v2: memory/pids not delegated to {parent}")
        if not set(_CONTROLLERS) <= _words(parent / "cgroup.controllers"):
            return CgroupSupport(None, reason="cgroup v2: memory/pids controllers not available")
        try:
            _write(parent / "cgroup.subtree_control", "+memory +pids")
        except OSError as exc:
            return CgroupSupport(None, reason=f"cgroup v2: cannot enable memory/pids ({exc})")
    group = parent / GROUP
    try:
        group.mkdir(exist_ok=True)
        _write(group / "cgroup.subtree_control", "+memory +pids")
    except OSError as exc:
        return CgroupSupport(None, reason=f"cgroup v2: {group} not writable ({exc})")
    return CgroupSupport("v2", {"memory": group, "pids": group})


def _cgroup_mounts(mountinfo: Path) -> dict[str, dict[str, Path]]:
    found: dict[str, dict[str, Path]] = {"v1": {}}
    for line in _lines(mountinfo):
        left, _, right = line.partition(" - ")
        fstype, _source, *options = right.split()
        point = Path(left.split()[4])
        if fstype == "cgroup2":
            found.setdefault("v2", {"": point})
        elif fstype == "cgroup":
            for option in (options[0].split(",") if options else []):
                if option in _CONTROLLERS:
                    found["v1"][option] = point
    return found


def _own_paths(cgroup_file: Path) -> dict[str, str]:
    own = {}
    for line in _lines(cgroup_file):
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            own[controller] = path
    return own


def _writable_dir(path: Path) -> bool:
    """Try making a cgroup under `path` (created on demand), and leave nothing behind."""
    probe = path / f"probe-{os.getpid()}"
    try:
        probe.mkdir(parents=True)
        probe.rmdir()
    except OSError:
        return False
    with contextlib.suppress(OSError):  # the parent too, unless a sandbox is in it
        path.rmdir()
    return True


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except OSError:
        return []


def _words(path: Path) -> set[str]:
    return {word for line in _lines(path) for word in line.split()}


def _write(path: Path, value: object) -> None:
    path.write_text(str(value))


def _write_optional(path: Path, value: object) -> None:
    with contextlib.suppress(OSError):  # the file exists only with swap accounting / newer kernels
        _write(path, value)


def _read_int(path: Path, default: int | None) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return default


def _read_key(path: Path, key: str) -> int:
    for line in _lines(path):
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0


def _read_pids(path: Path) -> list[int]:
    return [int(line) for line in _lines(path) if line.strip().isdigit()]
