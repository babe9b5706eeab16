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


class Agent(bt.Strategy):
    """Write at start, report the totals, trade nothing."""

    def start(self):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        size, error = fill("/workspace/huge.bin", CONFIG["huge_mib"])
        print(f"single file: {size} bytes, stopped by {error!r}")
        os.remove("/workspace/huge.bin")
        total = 0
        for i in range(CONFIG["files"]):
            size, error = fill(f"/workspace/part-{i}.bin", CONFIG["file_mib"])
            total += size
            if error is not None:
                break
        print(f"workspace total: {total} bytes, stopped by {error!r}")
        tmp_total = 0
        for i in range(CONFIG["files"]):
            size, error = fill(f"/tmp/part-{i}.bin", CONFIG["file_mib"])
            tmp_total += size
            if error is not None:
                break
        print(f"tmp total: {tmp_total} bytes, stopped by {error!r}")

    def next(self):
        pass
