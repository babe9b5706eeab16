"""Stop gracefully when the local supervisor (`farm up`'s orchestrator) is gone.

A runtime the local orchestrator starts is its child. If that process dies without stopping it
(killed, crashed), the runtime would go on trading with nobody supervising it, and the next
`farm up` would start a second runtime for the same session. So the orchestrator passes its pid
and the runtime stops itself, flushing FMEL, once its parent is another process. (Not
PR_SET_PDEATHSIG: that fires when the *thread* that forked exits, and the orchestrator forks
from short-lived request threads.) On GKE there is no supervisor pid and nothing to watch.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def watch_supervisor(pid: int, on_gone: Callable[[], None], *, interval_s: float = 1.0) -> threading.Thread:
    """Call `on_gone` once when this process's parent is no longer `pid`; checks every `interval_s`."""

    def watch() -> None:
        stopped = threading.Event()
        while not stopped.wait(interval_s):
            if os.getppid() != pid:
                log.warning("supervisor %d is gone: stopping", pid)
                on_gone()
                return

    thread = threading.Thread(target=watch, name="supervisor-watch", daemon=True)
    thread.start()
    return thread
