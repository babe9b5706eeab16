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

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from shared.domain.clock import now_iso
from shared.domain.lifecycle import AgentStatus
from shared.errors import InvalidInputError
from shared.ports.documents import DocumentStore, Transaction
from shared.ports.messages import MessageBus, OutgoingMessage
from shared.schemas.collections import BACKTESTS
from shared.schemas.messages import RunBacktest
from shared.services.standard_evaluation import (
    DEFAULT_CASH,
    DEFAULT_COMMISSION,
    StandardEvaluation,
    standard_evaluation,
)

log = logging.getLogger(__name__)

QUEUED = "queued"
__all__ = ["DEFAULT_CASH", "DEFAULT_COMMISSION", "auto_run_id", "default_request", "request_auto_backtest"]


def auto_run_id(agent_id: str) -> str:
    """The run id of an agent's automatic first backtest."""
    return f"{agent_id}-auto"


def default_request(
    agent_id: str, agent: dict[str, Any], *, requested_at: str, evaluation: StandardEvaluation
) -> RunBacktest:
    """The agent's standard evaluation as a RunBacktest (the same request for every agent)."""
    return RunBacktest(
        run_id=auto_run_id(agent_id),
        agent_id=agent_id,
        owner_uid=agent["owner_uid"],
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
    if agent.get("status") != AgentStatus.STORED.value or agent.get("deleted"):
        log.info("agent %s is %s: no automatic backtest", agent_id, agent.get("status"))
        return None
    at = clock()
    evaluation = standard_evaluation(documents, clock=clock)
    try:
        proposed = default_request(agent_id, agent, requested_at=at, evaluation=evaluation)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(f"agent {agent_id} document is malformed: {exc!r}") from exc
    run_id = proposed.run_id

    def queue(txn: Transaction) -> dict[str, Any]:
        existing = txn.get(BACKTESTS, run_id)
        if existing is not None:
            return existing["request"]
        request = dataclasses.asdict(proposed)
        txn.create(BACKTESTS, run_id, {
            "owner_uid": proposed.owner_uid, "agent_id": agent_id, "status": QUEUED,
            "automatic": True, "standard": True, "evaluation": evaluation.to_json(),
            "request": request, "created_at": at, "updated_at": at,
        })
        return request

    message = RunBacktest(**documents.transaction(queue))
    attributes = {"run_id": run_id, "agent_id": agent_id}
    messages.publish(RunBacktest.TOPIC, [OutgoingMessage(message.encode(), attributes)])
    log.info("published %s for agent %s", run_id, agent_id)
    return message
