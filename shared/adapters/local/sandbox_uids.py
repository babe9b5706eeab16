"""One host uid per running sandbox, leased with a lock file.

A uid of its own keeps a sandbox's RLIMIT_NPROC count and file ownership apart from every
other sandbox and from daemons that run as `nobody`. The lease is an flock on
`<dir>/<uid>.lock`: the kernel drops it when the holder exits, so a crashed host leaks nothing.
"""

from __future__ import annotations

import fcntl
import itertools
import os
from pathlib import Path


class UidLease:
    """A uid no other live sandbox on this machine holds, until `release()`."""

    def __init__(self, uid: int, fd: int) -> None:
        self.uid = uid
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, lock_dir: Path, first: int, count: int) -> UidLease:
        """Lease the first free uid of `first .. first+count-1` (OSError when all are taken)."""
        lock_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        start = os.getpid() % count  # concurrent hosts start their search at different places
        for offset in itertools.islice(itertools.count(start), count):
            uid = first + offset % count
            fd = os.open(lock_dir / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return cls(uid, fd)
        raise OSError(f"all {count} sandbox uids from {first} are in use")

    def release(self) -> None:
        """Give the uid back (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
