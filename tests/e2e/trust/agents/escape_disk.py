"""Sandbox escape: fill the disk, one huge file (past RLIMIT_FSIZE) and then many files each under
it, in the workspace and in /tmp. SIGXFSZ is ignored so every limit shows up as an error."""

import os
import signal

import backtrader as bt

CONFIG = {}
CHUNK = b"\0" * (1 << 20)


def fill(path, megabytes):
    """Write up to `megabytes` MiB to `path`; return (bytes written, the error that stopped it)."""
    written = 0
    try:
        with open(path, "wb", buffering=0) as handle:
            for _ in range(megabytes):
                written += handle.write(CHUNK)
    except OSError as exc:
        return written, exc
    return written, None


def fill_many(folder):
    """Write files of CONFIG["file_mib"] until refused or CONFIG["files"] are written."""
    total, error = 0, None
    for i in range(CONFIG["files"]):
        size, error = fill(f"{folder}/part-{i}.bin", CONFIG["file_mib"])
        total += size
        if error is not None:
            break
    return total, error


def remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


class Agent(bt.Strategy):
    """Write at start, report the totals, trade nothing."""

    def start(self):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        for folder in ("/workspace", "/tmp"):
            size, error = fill(f"{folder}/huge.bin", CONFIG["huge_mib"])
            print(f"single file in {folder}: {size} bytes, stopped by {error!r}")
            remove(f"{folder}/huge.bin")
        total, error = fill_many("/workspace")
        print(f"workspace total: {total} bytes, stopped by {error!r}")
        total, error = fill_many("/tmp")
        print(f"tmp total: {total} bytes, stopped by {error!r}")

    def next(self):
        pass
