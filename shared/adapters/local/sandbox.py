"""BubblewrapSandbox: run untrusted agent code with nothing to reach and little to spend.

The trusted host (it holds the stores and credentials) starts the agent's process with
`popen`; they talk over file descriptors the host passes (`pass_fds`, e.g. one end of a
`socket.socketpair()`), which keep their numbers inside. The sandbox (README: "The local
sandbox") has no network but its own loopback, its own PID namespace (nothing outlives it: a
`setsid` double fork dies with it), a minimal read-only filesystem (`sandbox_layout`) with only
the run's workspace writable, an unprivileged uid of its own, no capabilities, `no_new_privs`, a
seccomp deny-list, rlimits (address space, CPU, file size, open files, processes, no core) and,
where cgroups are writable, an aggregate memory and pids limit.

It never degrades silently: a sandbox that cannot start raises `SandboxUnavailableError`, and
`capabilities()` says which optional layer (cgroups, seccomp, own uid) this machine lacks.
`--die-with-parent` kills the sandbox when the host dies; Linux's parent-death signal follows
the *thread* that forked, so every sandbox is forked by one long-lived spawner thread, and
`popen` may be called from any thread (a request handler's included).
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from shared.adapters.local import sandbox_cgroups as cgroups
from shared.adapters.local.sandbox_config import (
    PROJECT_ROOT,
    SandboxCapabilities,
    SandboxConfig,
    SandboxLimits,
    within_hard_limits,
)
from shared.adapters.local.sandbox_layout import (
    SOURCE_ROOT,
    STAGE_SCRIPT,
    WORKSPACE,
    Bind,
    bind_args,
    layout,
    needs_staging,
    refuse_hidden,
    system_args,
)
from shared.adapters.local.sandbox_process import SandboxProcess
from shared.adapters.local.sandbox_seccomp import compile_filter
from shared.adapters.local.sandbox_uids import UidLease
from shared.errors import SandboxUnavailableError

__all__ = ["PROJECT_ROOT", "SOURCE_ROOT", "WORKSPACE", "BubblewrapSandbox", "SandboxCapabilities",
           "SandboxConfig", "SandboxLimits", "SandboxProcess"]
log = logging.getLogger(__name__)
_SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
# Names that carry credentials never enter a sandbox, whatever the caller passes.
_CREDENTIAL_ENV = re.compile(
    r"^(APCA_|ALPACA_|GOOGLE_|GCLOUD_|CLOUDSDK_|AWS_|FIREBASE_)"
    r"|SECRET|TOKEN|PASSWORD|CREDENTIAL|_KEY$|REDIS", re.IGNORECASE)
_Stream = int | IO[Any] | None
_spawner: ThreadPoolExecutor | None = None
_spawner_lock = threading.Lock()
# Cgroup names `<host pid>-<n>-<random>`: unique across the sandbox objects of one process (tests,
# the functions host and a job) and across a reused pid whose earlier cgroup is not reaped yet.
_CGROUP_NAMES = itertools.count()


class BubblewrapSandbox:
    """Start commands inside bubblewrap with this host's `SandboxConfig`."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self._caps: SandboxCapabilities | None = None
        self._tools: dict[str, str] = {}
        self._bpf: bytes | None = None
        self._cgroups = cgroups.CgroupSupport(None, reason="disabled")
        self._lock = threading.Lock()

    def python_argv(self, module: str, *args: str) -> list[str]:
        """Return the argv running `python -m module args...` inside (PYTHONPATH=SOURCE_ROOT)."""
        return [self.config.python, "-m", module, *args]

    def capabilities(self) -> SandboxCapabilities:
        """Return what this machine enforces (runs `check()` once)."""
        return self.check()

    def check(self) -> SandboxCapabilities:
        """Verify, once, that a sandbox starts here; raise SandboxUnavailableError if not."""
        with self._lock:
            if self._caps is None:
                self._caps = self._probe()
            return self._caps

    def popen(self, argv: Sequence[str], *, workspace: Path, limits: SandboxLimits,
              pass_fds: Sequence[int] = (), env: Mapping[str, str] | None = None,
              stdin: _Stream = subprocess.DEVNULL, stdout: _Stream = None,
              stderr: _Stream = None) -> SandboxProcess:
        """Start `argv` in a new sandbox whose only writable place is `workspace` (/workspace)."""
        self.check()
        start = (list(argv), workspace, limits, tuple(pass_fds), env or {}, (stdin, stdout, stderr))
        return _spawn_thread().submit(self._start, *start).result()

    def _start(self, argv: list[str], workspace: Path, limits: SandboxLimits,
               pass_fds: tuple[int, ...], env: Mapping[str, str],
               streams: tuple[_Stream, _Stream, _Stream]) -> SandboxProcess:
        if bad := sorted(k for k in env if _CREDENTIAL_ENV.search(k)):
            raise ValueError(f"credentials never enter a sandbox: {bad}")
        limits = within_hard_limits(limits)
        workspace = _checked_workspace(workspace)
        binds = layout(self.config.python, self.config.packages, workspace, writable=limits.workspace_writable)
        if reason := refuse_hidden(binds, self.config.hidden):
            raise SandboxUnavailableError(f"refusing to start the sandbox: {reason}")
        lease = None
        if os.geteuid() == 0:
            lease = UidLease.acquire(self.config.state_dir / "uids", self.config.uid_first,
                                     self.config.uid_count)
        cgroup, info_r, info_w, seccomp_fd, handed_over = None, -1, -1, -1, False
        try:
            if lease is not None and limits.workspace_writable:
                os.chown(workspace, lease.uid, lease.uid)
            if self._cgroups.version:
                cgroup = cgroups.SandboxCgroup(
                    self._cgroups, f"{os.getpid()}-{next(_CGROUP_NAMES)}-{secrets.token_hex(4)}",
                    memory_bytes=limits.memory_bytes, processes=limits.processes)
            info_r, info_w = os.pipe()
            fds = [info_w]
            if self._bpf is not None:
                seccomp_fd = os.memfd_create("farm-seccomp")
                os.write(seccomp_fd, self._bpf)
                os.lseek(seccomp_fd, 0, os.SEEK_SET)
                fds.append(seccomp_fd)
            command = self._command(argv, binds, limits, env, lease, cgroup, info_w, seccomp_fd)
            handed_over = True  # SandboxProcess frees the cgroup, uid and pipe from here on
            return SandboxProcess(
                command, cgroup=cgroup, lease=lease, info_fd=info_r, bwrap=self._tools["bwrap"],
                pass_fds=(*fds, *pass_fds),
                env={"PATH": _SYSTEM_PATH}, stdin=streams[0], stdout=streams[1],
                stderr=streams[2], start_new_session=True)
        except BaseException:
            if not handed_over:
                _free(info_r, cgroup, lease)
            raise
        finally:
            for fd in (info_w, seccomp_fd):
                if fd >= 0:
                    os.close(fd)

    def _command(self, argv: list[str], binds: list[Bind], limits: SandboxLimits,
                 env: Mapping[str, str], lease: UidLease | None,
                 cgroup: cgroups.SandboxCgroup | None, info_fd: int, seccomp_fd: int) -> list[str]:
        tools, stage = self._tools, str(self.config.state_dir / "stage")
        # root stages what the sandbox's uid could not reach itself (see sandbox_layout)
        sources = [b.source for b in binds if lease is not None and needs_staging(b.source)]
        staged = {source: f"{stage}/{i}" for i, source in enumerate(sources)}
        inner_env = {
            "PATH": "/usr/bin:/bin", "HOME": WORKSPACE if limits.workspace_writable else "/tmp",
            "TMPDIR": "/tmp", "LANG": "C.UTF-8",
            "PYTHONPATH": SOURCE_ROOT, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp", "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1", **env,
        }
        bwrap = [
            # --as-pid-1: the command is its namespace's init, so when it ends the kernel ends
            # everything else inside; and it binds its life to bwrap's before exec, whereas
            # bwrap's own init would do so only after the command has already started.
            tools["bwrap"], "--unshare-all", "--unshare-user", "--disable-userns", "--as-pid-1",
            "--die-with-parent", "--new-session", "--clearenv", "--cap-drop", "ALL",
            # The private /tmp before the binds: a bind below /tmp (a checkout or virtualenv there)
            # must land on top of it, not be hidden by it.
            "--hostname", "sandbox", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
            *system_args(), *bind_args(binds, staged), "--chdir", WORKSPACE,
            "--proc", "/proc", "--dev", "/dev", "--size", str(limits.tmp_bytes), "--tmpfs",
            "/dev/shm", "--remount-ro", "/",  # the root tmpfs too
            "--info-fd", str(info_fd),
        ]
        if seccomp_fd >= 0:
            bwrap += ["--seccomp", str(seccomp_fd)]
        for key, value in inner_env.items():
            bwrap += ["--setenv", key, value]
        rlimits = [tools["prlimit"], f"--as={limits.address_space_bytes}",
                   f"--cpu={limits.cpu_seconds}", f"--fsize={limits.file_size_bytes}",
                   f"--nofile={limits.open_files}", "--core=0"]
        if lease is not None:  # RLIMIT_NPROC counts all the uid's tasks: only with a uid of its own
            rlimits += [f"--nproc={limits.processes}", "--", tools["setpriv"],
                        f"--reuid={lease.uid}", f"--regid={lease.uid}", "--clear-groups",
                        "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all"]
        procs = [str(p) for p in cgroup.procs_files] if cgroup else []
        script = [tools["sh"], "-c", STAGE_SCRIPT, "farm-sandbox", stage, str(len(sources)),
                  *map(str, sources), str(len(procs)), *procs]
        head = [tools["unshare"], "--mount", "--propagation", "private", "--"] if lease else []
        return [*head, *script, *rlimits, "--", *bwrap, "--", *argv]

    def _probe(self) -> SandboxCapabilities:
        root = os.geteuid() == 0
        for tool in ("bwrap", "prlimit", "sh", *(("unshare", "setpriv", "mount") if root else ())):
            found = shutil.which(tool, path=_SYSTEM_PATH)
            if found is None:
                hint = " (Debian: apt-get install bubblewrap)" if tool == "bwrap" else ""
                raise SandboxUnavailableError(
                    f"the sandbox needs `{tool}`, which is not installed{hint}")
            self._tools[tool] = found
        if root:
            (self.config.state_dir / "stage").mkdir(mode=0o755, parents=True, exist_ok=True)
        missing = []
        if self.config.cgroups:
            self._cgroups = cgroups.detect()
            if self._cgroups.version and (orphans := cgroups.reap_orphans(self._cgroups)):
                log.warning("ended %d sandbox(es) left running by a host that died", orphans)
        if not self._cgroups.version:
            missing.append(f"aggregate memory and pids limits: {self._cgroups.reason}")
        self._bpf, reason = compile_filter() if self.config.seccomp else (None, "disabled")
        if self._bpf is None:
            missing.append(f"seccomp filter: {reason}")
        if not root:
            missing.append("a uid of its own and RLIMIT_NPROC: the host does not run as root")
        for line in missing:
            log.warning("sandbox without %s", line)
        self._trial_run()
        version = subprocess.run([self._tools["bwrap"], "--version"], capture_output=True,
                                 text=True, check=False).stdout.strip()
        return SandboxCapabilities(
            bwrap_version=version, cgroup=self._cgroups.version, seccomp=self._bpf is not None,
            uid=f"leased from {self.config.uid_first}" if root else f"host uid {os.getuid()}",
            nproc=root, missing=tuple(missing))

    def _trial_run(self) -> None:
        with tempfile.TemporaryDirectory(prefix="farm-sandbox-check-") as tmp:
            streams = (subprocess.DEVNULL, subprocess.PIPE, subprocess.STDOUT)
            limits = SandboxLimits(memory_bytes=256 << 20, processes=16, cpu_seconds=10)
            process = self._start(["/usr/bin/true"], Path(tmp), limits, (), {}, streams)
            out, _ = process.communicate(timeout=30)
            if process.returncode != 0:
                detail = out.decode(errors="replace").strip()[-500:] or f"exit {process.returncode}"
                raise SandboxUnavailableError(
                    f"bubblewrap cannot start a sandbox here (user namespaces disabled?): {detail}")


def _spawn_thread() -> ThreadPoolExecutor:
    """Return the process-wide spawner: one thread that lives as long as the host process."""
    global _spawner  # noqa: PLW0603 - one per process on purpose: a sandbox dies with its forking thread
    with _spawner_lock:
        if _spawner is None:
            _spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-spawner")
        return _spawner


def _free(fd: int, cgroup: cgroups.SandboxCgroup | None, lease: UidLease | None) -> None:
    if fd >= 0:
        os.close(fd)
    if cgroup is not None:
        cgroup.release()
    if lease is not None:
        lease.release()


def _checked_workspace(workspace: Path) -> Path:
    path = Path(workspace)
    if path.is_symlink() or not path.is_dir():
        raise SandboxUnavailableError(f"the workspace {path} must be an existing directory")
    return path.resolve()
