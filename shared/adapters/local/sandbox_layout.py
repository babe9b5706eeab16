"""What the sandbox sees and how it is started: the bind list and the command line.

Inside, the filesystem is a fresh tmpfs holding only: /usr (and the /bin, /lib* links of a
merged-/usr system), a few /etc files the dynamic loader needs, the Python installation(s) the
host runs from at their own paths, the project's packages read-only under `SOURCE_ROOT`, the
run's workspace read-write at `WORKSPACE`, and a private /tmp, /proc and /dev.

When the host is root, bubblewrap must still run as an unprivileged uid (a user namespace
created by root keeps host-root file permissions), and such a uid often cannot reach the bind
sources (/root is 0700; pytest's tmp dirs too). So root first stages them: in a private mount
namespace (`unshare --mount`), a shell bind-mounts each source under a 0755 tmpfs, joins the
sandbox's cgroups, and then `prlimit` -> `setpriv` -> `bwrap` replace it in the same process.
Nothing of the staging is visible to the host's own mount namespace.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

WORKSPACE = "/workspace"
SOURCE_ROOT = "/opt/farm/src"
_MERGED_USR = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime")

# $1 stage dir, $2 number of sources, the sources, a number of cgroup.procs files, those
# files, then the command to exec. Runs as root only for the staging; `exec` keeps the pid.
STAGE_SCRIPT = r"""set -eu
stage=$1; shift
if [ "$1" -gt 0 ]; then
  mount -t tmpfs -o mode=0755,size=64k,nosuid,nodev,noexec farm-stage "$stage"
fi
n=$1; shift; i=0
while [ "$i" -lt "$n" ]; do
  if [ -d "$1" ]; then mkdir "$stage/$i"; else : > "$stage/$i"; fi
  mount --bind "$1" "$stage/$i"; shift; i=$((i + 1))
done
n=$1; shift; i=0
while [ "$i" -lt "$n" ]; do echo $$ > "$1"; shift; i=$((i + 1)); done
exec "$@"
"""


@dataclass(frozen=True)
class Bind:
    """One bind mount: host `source` on `dest` inside, writable or not."""

    source: Path
    dest: str
    writable: bool = False


def python_roots(python: str) -> list[Path]:
    """Return the installation dirs `python` needs: its venv and the base install it links to."""
    roots = {Path(python).absolute().parent.parent, Path(python).resolve().parent.parent}
    if Path(python).absolute() == Path(sys.executable).absolute():
        prefixes = (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)
        roots |= {Path(p) for p in prefixes}
    kept = sorted(r.resolve() for r in roots if not _under(r.resolve(), Path("/usr")))
    return [r for r in kept if not any(r != o and _under(r, o) for o in kept)]


def layout(python: str, packages: tuple[Path, ...], workspace: Path, *, writable: bool = True) -> list[Bind]:
    """Return every bind of a sandbox beyond /usr, /etc files and the merged-/usr links."""
    binds = [Bind(root, str(root)) for root in python_roots(python)]
    binds += [Bind(pkg.resolve(), f"{SOURCE_ROOT}/{pkg.resolve().name}") for pkg in packages]
    return [*binds, Bind(workspace, WORKSPACE, writable=writable)]


def refuse_hidden(binds: list[Bind], hidden: tuple[Path, ...]) -> str | None:
    """Return why a bind would expose a hidden path (the data dir), or None.

    No bind may hold a hidden path; a read-only one may not lie inside one either (the
    workspace may: runs keep their workspaces in the data dir).
    """
    for bind in binds:
        for secret in (path.resolve() for path in hidden):
            inside_ok = bind.dest == WORKSPACE  # the run's own folder, read-only or not
            if _under(secret, bind.source) or (not inside_ok and _under(bind.source, secret)):
                return f"{bind.source} would expose {secret} inside the sandbox"
    return None


def system_args() -> list[str]:
    """Return bwrap arguments for /usr, the merged-/usr links and the loader's /etc files."""
    args = ["--ro-bind", "/usr", "/usr"]
    for path in _MERGED_USR:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in _ETC_FILES:
        args += ["--ro-bind-try", path, path]
    return args


def bind_args(binds: list[Bind], staged: dict[Path, str]) -> list[str]:
    """Return bwrap arguments for `binds`, reading each from its staged copy when there is one."""
    args: list[str] = []
    for bind in binds:
        kind = "--bind" if bind.writable else "--ro-bind"
        args += [kind, staged.get(bind.source, str(bind.source)), bind.dest]
    return args


def needs_staging(source: Path) -> bool:
    """Say whether an unprivileged uid with no groups cannot reach `source` (a 0700 parent)."""
    for parent in source.parents:
        try:
            mode = parent.stat().st_mode
        except OSError:
            return True
        if not mode & 0o001:  # no search bit for others
            return True
    return False


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
