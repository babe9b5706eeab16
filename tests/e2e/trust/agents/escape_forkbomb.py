"""Sandbox escape: a fork bomb (bounded), each child a marked `sleep` the host can look for."""

import os

import backtrader as bt

CONFIG = {}


class Agent(bt.Strategy):
    """Fork until refused, report how far it got, then run normally."""

    def start(self):
        forked, error = 0, None
        for _ in range(CONFIG["attempts"]):
            try:
                pid = os.fork()
            except OSError as exc:
                error = exc
                break
            if pid == 0:
                try:
                    os.execv("/usr/bin/sleep", [CONFIG["marker"], "600"])
                finally:
                    os._exit(0)
            forked += 1
        print(f"forked {forked} processes, stopped by {error!r}")

    def next(self):
        pass
