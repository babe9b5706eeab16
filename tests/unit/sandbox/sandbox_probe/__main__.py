"""Try one thing an attacker would, print what happened as one JSON line on stdout.

ACTION is one of: connect HOST:PORT | connect-unix PATH | read PATH... | write PATH... | env |
fds | identity | fork-bomb N | big-file BYTES [PATH] | allocate BYTES | allocate-in-children N BYTES |
escape-syscalls | double-fork MARKER SECONDS | echo-fd FD.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path


def attempt(action: Callable[..., object], *args: object) -> str:
    """Run `action` on `args`; return "ok" or the error's name."""
    try:
        action(*args)
    except Exception as exc:  # noqa: BLE001 - report every refusal by its type, whatever it is
        return type(exc).__name__
    return "ok"


def connect(target: str) -> dict:
    host, port = target.rsplit(":", 1)
    with socket.socket() as s:
        s.settimeout(2)
        result = attempt(s.connect, (host, int(port)))
    return {"connect": result, "interfaces": [name for _, name in socket.if_nameindex()]}


def connect_unix(path: str) -> dict:
    address = "\0" + path[1:] if path.startswith("@") else path  # @name: an abstract socket
    with socket.socket(socket.AF_UNIX) as s:
        return {"connect": attempt(s.connect, address)}


def read(*paths: str) -> dict:
    return {p: attempt(Path(p).read_bytes) for p in paths}


def write(*paths: str) -> dict:
    return {p: attempt(Path(p).write_text, "pwned") for p in paths}


def identity() -> dict:
    lines = Path("/proc/self/status").read_text().splitlines()
    status = dict(line.split(":\t", 1) for line in lines if ":\t" in line)
    keys = ("Uid", "Gid", "CapEff", "CapBnd", "NoNewPrivs", "Seccomp")
    return {k: status[k].strip() for k in keys} | {"pid": os.getpid(), "cwd": os.getcwd(),
                                                    "root": sorted(os.listdir("/"))}


def fork_bomb(n: str) -> dict:
    started = 0
    try:
        for _ in range(int(n)):
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
            started += 1
    except OSError as exc:
        return {"started": started, "error": type(exc).__name__}
    return {"started": started, "error": None}


def big_file(size: str, path: str = "big.bin") -> dict:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # see EFBIG instead of dying of the signal
    written = 0
    with open(path, "wb", buffering=0) as out:
        try:
            for _ in range(int(size) // (1 << 20)):
                written += out.write(b"x" * (1 << 20))
        except OSError as exc:
            return {"written": written, "error": type(exc).__name__}
    return {"written": written, "error": None}


def allocate(size: str) -> dict:
    try:
        block = b"1" * int(size)  # every page written: resident, not just reserved
    except MemoryError:
        return {"allocated": False, "error": "MemoryError"}
    return {"allocated": len(block) == int(size), "error": None}


def allocate_in_children(n: str, size: str) -> dict:
    """Fork `n` children that each hold `size` bytes together: only an aggregate cap stops it."""
    pids = []
    for _ in range(int(n)):
        pid = os.fork()
        if pid == 0:
            block = b"1" * int(size)
            time.sleep(3)
            os._exit(0 if block else 1)
        pids.append(pid)
    statuses = [os.waitpid(pid, 0)[1] for pid in pids]
    return {"signals": [os.WTERMSIG(s) if os.WIFSIGNALED(s) else 0 for s in statuses]}


def escape_syscalls() -> dict:
    libc = ctypes.CDLL(None, use_errno=True)

    def call(name: str, *args: int) -> int:
        result = getattr(libc, name)(*args)
        return 0 if result == 0 else ctypes.get_errno()

    return {"ptrace": call("ptrace", 0, 0, 0, 0), "unshare_user": call("unshare", 0x10000000),
            "unshare_net": call("unshare", 0x40000000), "mount": call("mount", 0, 0, 0, 0, 0),
            "keyctl": call("syscall", 250, 0, 0, 0), "bpf": call("syscall", 321, 0, 0, 0)}


def double_fork(marker: str, seconds: str) -> dict:
    """Leave a `setsid` grandchild sleeping with `marker` in its argv, then wait or return."""
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", marker])
        os._exit(0)
    print(json.dumps({"forked": True}), flush=True)
    time.sleep(float(seconds))
    return {"done": True}


def open_fds() -> list[int]:
    """List open descriptors without opening one (as listing /proc/self/fd would)."""
    return [fd for fd in range(1024) if attempt(os.fstat, fd) == "ok"]


def echo_fd(fd: str) -> dict:
    with socket.socket(fileno=int(fd)) as channel:
        data = channel.recv(1024)
        channel.sendall(data.upper())
        return {"echoed": data.decode(), "fds": open_fds()}


ACTIONS = {"connect": connect, "connect-unix": connect_unix, "read": read, "write": write,
           "env": lambda: dict(os.environ), "identity": identity, "fork-bomb": fork_bomb,
           "big-file": big_file, "allocate": allocate, "allocate-in-children": allocate_in_children,
           "escape-syscalls": escape_syscalls, "double-fork": double_fork, "echo-fd": echo_fd,
           "fds": open_fds}

if __name__ == "__main__":
    print(json.dumps(ACTIONS[sys.argv[1]](*sys.argv[2:])), flush=True)
