"""Sandbox escape: write outside the workspace (data dir, other users' bundles, the platform's
source, the Python installation, the host's /tmp), each attempt leaving a marker behind."""

import os

import backtrader as bt

CONFIG = {}


def attempt(label, action):
    """Run one attempt and print its outcome."""
    try:
        action()
    except Exception as exc:  # noqa: BLE001 - any refusal is an outcome
        print(f"{label}: blocked ({type(exc).__name__}: {exc})")
        return False
    print(f"{label}: DONE")
    return True


def append(path, text):
    with open(path, "a") as handle:
        handle.write(text)


def create(path, text):
    with open(path, "w") as handle:
        handle.write(text)


class Agent(bt.Strategy):
    """Write everywhere at start; the workspace and private /tmp are the only places allowed."""

    def start(self):
        marker = CONFIG["marker"]
        for path in CONFIG["files"]:
            attempt(f"append {path}", lambda p=path: append(p, f"\n# {marker}\n"))
        for folder in CONFIG["dirs"]:
            attempt(
                f"create in {folder}",
                lambda f=folder: create(os.path.join(f, f"{marker}.py"), marker),
            )
        for path in CONFIG["removals"]:
            attempt(f"remove {path}", lambda p=path: os.remove(p))
        attempt(
            "symlink to the data dir",
            lambda: os.symlink(CONFIG["dirs"][0], f"/workspace/{marker}-link"),
        )
        attempt(
            "write through it", lambda: create(f"/workspace/{marker}-link/{marker}.txt", marker)
        )
        attempt("chmod the workspace", lambda: os.chmod("/workspace", 0o777))
        print("writer done")

    def next(self):
        pass
