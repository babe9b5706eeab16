"""Sandbox escape: print 300 MB, hoping the platform stores (and serves) every byte."""

import sys

import backtrader as bt

CONFIG = {}


class Agent(bt.Strategy):
    """Print CONFIG["mib"] MiB at start, then run normally."""

    def start(self):
        line = "x" * 1023 + "\n"
        for _ in range(CONFIG["mib"] * 1024):
            sys.stdout.write(line)
        sys.stdout.flush()

    def next(self):
        pass
