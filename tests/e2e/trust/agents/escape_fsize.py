"""Sandbox escape: one file past RLIMIT_FSIZE, SIGXFSZ left at its default (the process dies)."""

import backtrader as bt

CONFIG = {}


class Agent(bt.Strategy):
    """Write until killed."""

    def start(self):
        with open("/workspace/huge.bin", "wb", buffering=0) as handle:
            handle.writelines(b"\0" * (1 << 20) for _ in range(CONFIG["huge_mib"]))
        print("wrote the whole file: no file size limit")

    def next(self):
        pass
