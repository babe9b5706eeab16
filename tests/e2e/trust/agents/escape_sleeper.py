"""Sandbox escape: never answer (sleep in `next`), with a marked child, hoping to hold the host."""

import subprocess
import time

import backtrader as bt

CONFIG = {}


class Agent(bt.Strategy):
    """Start a marked child, then sleep on the first bar for an hour."""

    def start(self):
        self.child = subprocess.Popen(
            [CONFIG["marker"] + "-sleeper", "600"],
            executable="/usr/bin/sleep",
            start_new_session=True,
        )
        print("sleeper started", flush=True)

    def next(self):
        time.sleep(3600)
