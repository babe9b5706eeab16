"""Resource limits for the local sandboxes (backtest jobs, agent runtimes)."""

from __future__ import annotations

import resource
from collections.abc import Callable, Sequence


def rlimit_preexec(limits: Sequence[tuple[int, int]]) -> Callable[[], None]:
    """Return a `preexec_fn` that pins each `(RLIMIT_*, value)`, never above the hard limit."""
    settings = tuple(limits)

    def apply() -> None:
        # Runs in the child between fork and exec: only setrlimit calls, nothing that allocates locks.
        for kind, wanted in settings:
            _soft, hard = resource.getrlimit(kind)
            limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
            resource.setrlimit(kind, (limit, limit))

    return apply
