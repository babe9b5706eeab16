"""The agent lifecycle (SPEC §5): states, the legal transitions, and the history they leave."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from shared.errors import IllegalTransitionError


class AgentStatus(StrEnum):
    """Where an agent is in its life, stored on the agent document as `status`."""

    SUBMITTED = "submitted"
    VALIDATING = "validating"
    REJECTED = "rejected"
    STORED = "stored"
    BACKTESTING = "backtesting"
    BACKTESTED = "backtested"
    BACKTEST_FAILED = "backtest_failed"
    DEPLOYING = "deploying"
    TRADING = "trading"
    PAUSED = "paused"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


S = AgentStatus
TRANSITIONS: Mapping[AgentStatus, frozenset[AgentStatus]] = {
    S.SUBMITTED: frozenset({S.VALIDATING}),
    S.VALIDATING: frozenset({S.REJECTED, S.STORED}),
    S.REJECTED: frozenset(),
    S.STORED: frozenset({S.BACKTESTING}),
    # A finished backtest can be re-run (new window, new symbols) before trading.
    S.BACKTESTING: frozenset({S.BACKTESTED, S.BACKTEST_FAILED}),
    S.BACKTESTED: frozenset({S.BACKTESTING, S.DEPLOYING}),
    S.BACKTEST_FAILED: frozenset({S.BACKTESTING}),
    S.DEPLOYING: frozenset({S.TRADING, S.STOPPING, S.FAILED}),
    S.TRADING: frozenset({S.PAUSED, S.STOPPING, S.FAILED}),
    S.PAUSED: frozenset({S.TRADING, S.STOPPING}),
    S.STOPPING: frozenset({S.STOPPED}),
    # Paper trading can be started again; a stopped or failed agent can also be re-backtested.
    S.STOPPED: frozenset({S.DEPLOYING, S.BACKTESTING}),
    S.FAILED: frozenset({S.DEPLOYING, S.BACKTESTING, S.STOPPING}),
}

MAX_AUTOMATIC_RESTARTS = 3
TRADING_STATES = frozenset({S.DEPLOYING, S.TRADING, S.PAUSED})
HISTORY_LIMIT = 100  # keep documents small: the oldest entries are dropped past this


def can_transition(current: AgentStatus | str, target: AgentStatus | str) -> bool:
    """Whether the lifecycle allows moving from `current` to `target`."""
    return AgentStatus(target) in TRANSITIONS[AgentStatus(current)]


def history_entry(
    current: AgentStatus, target: AgentStatus, *, at: str, reason: str | None = None
) -> dict[str, Any]:
    """The history entry of a move from `current` to `target`; IllegalTransitionError if forbidden."""
    if not can_transition(current, target):
        raise IllegalTransitionError(
            f"agent cannot go from {current.value} to {target.value}",
            details={"from": current.value, "to": target.value},
        )
    entry: dict[str, Any] = {"from": current.value, "to": target.value, "at": at}
    if reason:
        entry["reason"] = reason
    return entry


def with_entry(history: Sequence[dict[str, Any]], entry: dict[str, Any]) -> list[dict[str, Any]]:
    """`history` with `entry` appended, the oldest entries dropped past HISTORY_LIMIT."""
    return [*history, entry][-HISTORY_LIMIT:]
