"""SandboxProcess: the Popen of a sandbox, which frees its cgroup and uid once waited for."""

from __future__ import annotations

import json
import os
import select
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, cast

from shared.adapters.local.sandbox_cgroups import CgroupUsage, SandboxCgroup
from shared.adapters.local.sandbox_uids import UidLease
from shared.errors import SandboxUnavailableError


class SandboxProcess(subprocess.Popen[bytes]):
    """A sandboxed process. `pid` is bubblewrap's: killing it ends everything inside.

    `usage` holds what its cgroup measured (peak memory, OOM kills) once it has been waited for.
    """

    def __init__(self, argv: list[str], *, cgroup: SandboxCgroup | None, lease: UidLease | None,
                 info_fd: int, bwrap: str, **popen: Any) -> None:
        self.cgroup, self.lease, self._info_fd = cgroup, lease, info_fd
        self._bwrap, self._started = bwrap.encode(), cast(int | None, None)
        self.usage = CgroupUsage()
        self._released = threading.Lock()
        try:
            super().__init__(argv, **popen)
        except BaseException:
            self._release()
            raise

    def wait_started(self, timeout_s: float = 10.0) -> int:
        """Block until the command runs inside a set-up sandbox; return its host pid.

        Until then a host that dies may leave the sandbox behind: bubblewrap ties the command's
        life to its own only just before exec. A harness that exits on EOF of its channel
        closes that window for the agent's code anyway.
        """
        deadline, data = time.monotonic() + timeout_s, b""
        while self._info_fd >= 0 and (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self._info_fd], [], [], left)
            chunk = os.read(self._info_fd, 4096) if ready else b""
            data += chunk
            if data.rstrip().endswith(b"}"):
                pid = int(json.loads(data)["child-pid"])
                os.close(self._info_fd)
                self._info_fd = -1
                self._started = self._wait_exec(pid, deadline)
                return pid
            if ready and not chunk:  # bubblewrap (or the staging before it) ended first
                code = self.wait(5.0)
                raise SandboxUnavailableError(
                    f"the sandbox did not start (bubblewrap exited with code {code})")
        if self._started is not None:
            return self._started
        raise SandboxUnavailableError(f"the sandbox did not start within {timeout_s:g}s")

    def _wait_exec(self, pid: int, deadline: float) -> int:
        # The command is its namespace's init (--as-pid-1): until it has exec'd, /proc shows
        # bubblewrap's own argv for it.
        while time.monotonic() < deadline:
            try:
                argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0]
            except OSError:
                return pid  # already over: its exit code says how
            if argv0 and argv0 != self._bwrap:
                return pid
            time.sleep(0.001)
        raise SandboxUnavailableError("the sandboxed command did not start in time")

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the sandbox to end, then free its cgroup and uid."""
        code = super().wait(timeout)
        self._release()
        return code

    def poll(self) -> int | None:
        """Return the exit code once the sandbox has ended (then free its cgroup and uid)."""
        code = super().poll()
        if code is not None:
            self._release()
        return code

    def _release(self) -> None:
        if not self._released.acquire(blocking=False):
            return  # once only, whichever of wait/poll/failed start comes first
        if self._info_fd >= 0:
            os.close(self._info_fd)
            self._info_fd = -1
        if self.cgroup is not None:
            self.usage = self.cgroup.usage()
            self.cgroup.release()
        if self.lease is not None:
            self.lease.release()
