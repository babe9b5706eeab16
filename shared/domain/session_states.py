"""The states of a paper-trading session and the legal steps between them (as `lifecycle` is for agents).

The steps themselves, with the rules that pick one, are `shared.domain.paper_session.PaperSession`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class SessionState(StrEnum):
    """Where a session is, stored on the session document as `state`."""

    DEPLOYING = "deploying"
    TRADING = "trading"
    INTERRUPTED = "interrupted"
    PAUSING = "pausing"
    PAUSED = "paused"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


class Desired(StrEnum):
    """What the session's owner asked for, stored as `desired`."""

    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


S = SessionState
TRANSITIONS: Mapping[SessionState, frozenset[SessionState]] = {
    S.DEPLOYING: frozenset({S.TRADING, S.INTERRUPTED, S.PAUSING, S.STOPPING, S.FAILED}),
    # A local stack that restarts deploys again a session whose runtime died with it.
    S.TRADING: frozenset({S.DEPLOYING, S.INTERRUPTED, S.PAUSING, S.STOPPING, S.FAILED}),
    # A runtime that left cleanly unasked: rescheduled (trading), resumed by `farm up` (deploying).
    S.INTERRUPTED: frozenset({S.DEPLOYING, S.TRADING, S.PAUSING, S.STOPPING, S.FAILED}),
    # Resuming before the pause finished is the owner's latest word.
    S.PAUSING: frozenset({S.PAUSED, S.DEPLOYING, S.STOPPING}),
    S.PAUSED: frozenset({S.DEPLOYING, S.STOPPING}),
    S.STOPPING: frozenset({S.STOPPED}),
    S.STOPPED: frozenset(),  # starting again creates a new session
    S.FAILED: frozenset({S.STOPPING}),  # the agent's lifecycle also allows failed -> stopping
}
# A runtime is (or should be) running: a stack that died with it starts it again.
LIVE_STATES = frozenset({S.DEPLOYING, S.TRADING, S.INTERRUPTED})
FINISHED_STATES = frozenset({S.STOPPED, S.FAILED})


def can_move(current: SessionState | str, target: SessionState | str) -> bool:
    """Whether a session may go from `current` to `target`."""
    return SessionState(target) in TRANSITIONS[SessionState(current)]
