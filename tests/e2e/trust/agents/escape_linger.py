"""Sandbox escape: leave processes behind (a `setsid` double fork, a new-session child) that
should outlive the run, each named with a marker the host can look for."""

import os
import subprocess
import time

import backtrader as bt

CONFIG = {}


class Agent(bt.Strategy):
    """Start the lingerers at start, check they are alive at the end, then finish normally."""

    def start(self):
        marker = CONFIG["marker"]
        child = os.fork()
        if child == 0:  # the classic daemon: fork, setsid, fork again, exec
            os.setsid()
            if os.fork() == 0:
                os.execv("/usr/bin/sleep", [f"{marker}-daemon", "600"])
            os._exit(0)
        os.waitpid(child, 0)
        self.popen = subprocess.Popen(
            [f"{marker}-session", "600"], executable="/usr/bin/sleep", start_new_session=True
        )
        time.sleep(0.2)
        print("lingerers started")

    def next(self):
        pass

    def stop(self):
        marker = CONFIG["marker"]
        alive = []
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    if marker.encode() in handle.read():
                        alive.append(pid)
            except OSError:
                continue
        print("lingerers alive at the end of the run:", len(alive))
