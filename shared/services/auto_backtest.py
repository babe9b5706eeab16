"""The automatic first backtest (SPEC §4): a stored agent gets one RunBacktest, exactly once.

It is the agent's standard evaluation (shared.services.standard_evaluation): the same universe,
window, timeframe and cash for every agent, marked `standard: true` on its run document, and
the only run the backtest leaderboard ranks.

The run is keyed by a deterministic run_id (`{agent_id}-auto`): the `backtests/{run_id}`
document is created only if absent and the message is built from what that document holds, so
a redelivered trigger publishes at most a duplicate of the same request (which the job side
dedupes on run_id) and never a second run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from shared.domain.agent import Agent
from shared.domain.backtest_run import BacktestRun
from shared.domain.clock import now_iso
from shared.domain.lifecycle import AgentStatus
from shared.domain.unit_of_work import UnitOfWork, run_in_transaction
from shared.ports.documents import DocumentStore
from shared.ports.messages import MessageBus, OutgoingMessage
from shared.schemas.messages import RunBacktest
from shared.services.standard_evaluation import (
    DEFAULT_CASH,
    DEFAULT_COMMISSION,
    StandardEvaluation,
    standard_evaluation,
)

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_CASH", "DEFAULT_COMMISSION", "auto_run_id", "default_request", "request_auto_backtest"]


def auto_run_id(agent_id: str) -> str:
    """The run id of an agent's automatic first backtest."""
    return f"{agent_id}-auto"


def default_request(agent: Agent, *, requested_at: str, evaluation: StandardEvaluation) -> RunBacktest:
    """The agent's standard evaluation as a RunBacktest (the same request for every agent)."""
    return RunBacktest(
        run_id=auto_run_id(agent.agent_id),
        agent_id=agent.agent_id,
        owner_uid=agent.owner_uid,
        symbols=list(evaluation.symbols),
        start=evaluation.start,
        end=evaluation.end,
        timeframe=evaluation.timeframe,
        cash=evaluation.cash,
        commission=evaluation.commission,
        requested_at=requested_at,
    )


def request_auto_backtest(
    agent_id: str,
    agent: dict[str, Any],
    *,
    documents: DocumentStore,
    messages: MessageBus,
    clock: Callable[[], str] = now_iso,
) -> RunBacktest | None:
    """Queue and publish the first backtest of a newly stored agent; None when not applicable.

    InvalidInputError for a malformed agent document (permanent); TransientError and other
    store/bus failures propagate so the trigger is retried.
    """
    stored = Agent.from_document(agent_id, agent)
    if stored.status is not AgentStatus.STORED or stored.deleted:
        log.info("agent %s is %s: no automatic backtest", agent_id, stored.status.value)
        return None
    at = clock()
    evaluation = standard_evaluation(documents, clock=clock)
    proposed = default_request(stored, requested_at=at, evaluation=evaluation)
    run_id = proposed.run_id

    def queue(uow: UnitOfWork) -> RunBacktest:
        existing = uow.backtest_runs.get(run_id)
        if existing is not None:
            return existing.run_request()
        uow.backtest_runs.add(BacktestRun.requested(proposed, at=at, automatic=True, evaluation=evaluation.to_json()))
        return proposed

    message = run_in_transaction(documents, queue)
    attributes = {"run_id": run_id, "agent_id": agent_id}
    messages.publish(RunBacktest.TOPIC, [OutgoingMessage(message.encode(), attributes)])
    log.info("published %s for agent %s", run_id, agent_id)
    return message
