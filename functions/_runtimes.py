"""The runtime orchestrator a function process shares: built on first use, kept, closed on shutdown.

The local orchestrator supervises the runtime subprocesses it started, so every function of
one process (paper-trading routes, the agent-deleted trigger) must use the same instance, and
the local stack must close it when it stops (runtimes get SIGTERM and flush FMEL).
"""

from __future__ import annotations

import threading

from shared.bootstrap import Platform, orchestrator
from shared.ports.orchestrator import Orchestrator

_lock = threading.Lock()
_orchestrators: dict[int, tuple[Platform, Orchestrator]] = {}


def orchestrator_for(platform: Platform) -> Orchestrator:
    """The platform's orchestrator, built on first use and kept: it supervises the runtimes."""
    with _lock:
        entry = _orchestrators.get(id(platform))
        if entry is None or entry[0] is not platform:
            entry = _orchestrators[id(platform)] = (platform, orchestrator(platform))
        return entry[1]


def close_orchestrator(platform: Platform, timeout_s: float = 20.0) -> int:
    """Stop every runtime `platform`'s orchestrator runs (SIGTERM, graceful); how many were running."""
    with _lock:
        entry = _orchestrators.pop(id(platform), None)
    if entry is None or entry[0] is not platform:
        return 0
    running = [s for s in entry[1].list() if s.state in ("starting", "running", "restarting")]
    close = getattr(entry[1], "close", None)  # GKE runtimes outlive the caller: nothing to close
    if callable(close):
        close(timeout_s)
    return len(running) if callable(close) else 0
