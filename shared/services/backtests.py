"""Backtest use cases (SPEC §4, §7): request, launch, record and show a run.

A run lives on `backtests/{run_id}` (status queued -> running -> succeeded | failed). Only an
agent that has no passed backtest yet (`stored`, `backtest_failed`) moves `backtesting ->
backtested | backtest_failed` with it: an agent that is backtested, paper trading, paused or
stopped can be backtested again without leaving its state, so a backtest never blocks paper
trading and paper trading never blocks a backtest. `run_id` is the idempotency key of every
handler: a redelivered RunBacktest never launches twice, a redelivered BacktestCompleted
changes nothing. Reading runs is shared.services.backtest_views.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from shared.domain.clock import now_iso
from shared.domain.lifecycle import AgentStatus, can_transition, transition
from shared.errors import ConflictError, InvalidInputError, NotFoundError
from shared.market.bars import TIMEFRAMES
from shared.market.universe import DEFAULT_SYMBOLS, DEFAULT_TIMEFRAME, default_window
from shared.ports import DocumentStore, MessageBus, OutgoingMessage, Transaction
from shared.ports.jobs import JobHandle, JobLauncher
from shared.schemas.collections import AGENTS, BACKTESTS
from shared.schemas.messages import BacktestCompleted, RunBacktest
from shared.services.backtest_views import get_backtest

log = logging.getLogger(__name__)
QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
FINAL = frozenset({SUCCEEDED, FAILED})
MAX_SYMBOLS = 100
# Not validated yet, or refused: nothing to backtest.
UNBACKTESTABLE = frozenset({AgentStatus.SUBMITTED, AgentStatus.VALIDATING, AgentStatus.REJECTED})
# Without a passed backtest: a run moves the agent (to `backtesting`, then on with the result).
UNPROVEN = frozenset({AgentStatus.STORED, AgentStatus.BACKTEST_FAILED})
__all__ = ["FAILED", "FINAL", "QUEUED", "RUNNING", "SUCCEEDED", "get_backtest", "launch_backtest",
           "parse_request", "publish_completed", "record_backtest_result", "request_backtest"]
Clock = Callable[[], str]


def request_backtest(
    owner_uid: str, agent_id: str, body: Mapping[str, Any], *, documents: DocumentStore,
    messages: MessageBus, clock: Clock = now_iso,
) -> dict[str, Any]:
    """Queue a backtest of the caller's agent and publish its RunBacktest; return {run_id, status}."""
    agent = _owned_agent(documents.get(AGENTS, agent_id), owner_uid, agent_id)
    if agent["status"] in UNBACKTESTABLE:
        raise ConflictError(f"agent {agent_id} is {agent['status']}: it cannot be backtested")
    at = clock()
    run = RunBacktest(run_id=f"{agent_id}-{secrets.token_hex(6)}", agent_id=agent_id, owner_uid=owner_uid,
                      requested_at=at, **parse_request(body))
    documents.create(BACKTESTS, run.run_id, {
        "owner_uid": owner_uid, "agent_id": agent_id, "status": QUEUED, "automatic": False, "standard": False,
        "request": dataclasses.asdict(run), "created_at": at, "updated_at": at,
    })
    attributes = {"run_id": run.run_id, "agent_id": agent_id}
    messages.publish(RunBacktest.TOPIC, [OutgoingMessage(run.encode(), attributes)])
    return {"run_id": run.run_id, "status": QUEUED}


def parse_request(body: Mapping[str, Any]) -> dict[str, Any]:
    """Check a POST body `{symbols, start, end, cash, commission, timeframe}`; defaults per SPEC §7."""
    if not isinstance(body, Mapping):
        raise InvalidInputError("the body must be a JSON object")
    unknown = sorted(set(body) - {"symbols", "start", "end", "cash", "commission", "timeframe"})
    if unknown:
        raise InvalidInputError(f"unknown field(s) {unknown}")
    symbols = body.get("symbols") or list(DEFAULT_SYMBOLS)
    if (not isinstance(symbols, list) or len(symbols) > MAX_SYMBOLS
            or not all(isinstance(s, str) and s.strip() for s in symbols)):
        raise InvalidInputError(f"symbols must be a list of 1 to {MAX_SYMBOLS} symbol names")
    default_start, default_end = default_window()
    start = _date(body.get("start"), "start", default_start.date())
    end = _date(body.get("end"), "end", default_end.date())
    if start >= end:
        raise InvalidInputError(f"start {start} must be before end {end}")
    timeframe = body.get("timeframe", DEFAULT_TIMEFRAME)
    if timeframe not in TIMEFRAMES:
        raise InvalidInputError(f"timeframe must be one of {TIMEFRAMES}")
    cash, commission = _number(body.get("cash", 25_000.0), "cash"), _number(body.get("commission", 0.0), "commission")
    if cash <= 0 or not 0 <= commission < 1:
        raise InvalidInputError("cash must be > 0 and commission a fraction in [0, 1)")
    return {"symbols": [s.strip().upper() for s in symbols], "start": start.isoformat(), "end": end.isoformat(),
            "timeframe": timeframe, "cash": cash, "commission": commission}


def launch_backtest(
    run: RunBacktest, *, documents: DocumentStore, messages: MessageBus, launcher: JobLauncher,
    clock: Clock = now_iso,
) -> JobHandle | None:
    """Mark the run `running` and its agent `backtesting`, then launch the job; None if already done."""
    at = clock()

    def claim(txn: Transaction) -> bool:
        doc = txn.get(BACKTESTS, run.run_id)
        if doc is not None and doc.get("status") != QUEUED:
            return False  # running or finished: a redelivery, never a second launch
        agent = txn.get(AGENTS, run.agent_id)
        if agent is None or agent.get("owner_uid") != run.owner_uid:
            raise InvalidInputError(f"run {run.run_id} names unknown agent {run.agent_id}")
        if agent["status"] in UNPROVEN and can_transition(agent["status"], AgentStatus.BACKTESTING):
            moved = transition(agent, AgentStatus.BACKTESTING, at=at, reason=run.run_id)
            txn.update(AGENTS, run.agent_id, moved | {"backtesting_run": run.run_id})
        changes = {"status": RUNNING, "started_at": at, "updated_at": at}
        if doc is None:
            txn.create(BACKTESTS, run.run_id, {
                "owner_uid": run.owner_uid, "agent_id": run.agent_id, "automatic": False, "standard": False,
                "request": dataclasses.asdict(run), "created_at": at, **changes,
            })
        else:
            txn.update(BACKTESTS, run.run_id, changes)
        return True

    if not documents.transaction(claim):
        log.info("backtest %s already launched: redelivery ignored", run.run_id)
        return None
    try:
        handle = launcher.launch(run)
    except Exception as exc:  # the run is `running` now: it must end, whatever failed
        log.exception("backtest %s could not be launched", run.run_id)
        event = BacktestCompleted(run_id=run.run_id, agent_id=run.agent_id, owner_uid=run.owner_uid,
                                  status=FAILED, finished_at=clock(), error=f"the job could not be launched: {exc}")
        publish_completed(messages, event)
        return None
    documents.update(BACKTESTS, run.run_id, {"job": dataclasses.asdict(handle), "updated_at": clock()})
    return handle


def publish_completed(messages: MessageBus, event: BacktestCompleted) -> None:
    """Publish a run's result on `backtest-results`."""
    attributes = {"run_id": event.run_id, "agent_id": event.agent_id, "status": event.status}
    messages.publish(BacktestCompleted.TOPIC, [OutgoingMessage(event.encode(), attributes)])
    log.info("backtest %s %s", event.run_id, event.status)


def record_backtest_result(event: BacktestCompleted, *, documents: DocumentStore, clock: Clock = now_iso) -> bool:
    """Store the result on the run and move the agent; False (nothing changed) for a redelivery."""
    at = clock()
    summary = {"run_id": event.run_id, "status": event.status, "finished_at": event.finished_at,
               "metrics": event.metrics, "report_key": event.report_key, "error": event.error}

    def record(txn: Transaction) -> bool:
        doc = txn.get(BACKTESTS, event.run_id)
        if doc is not None and doc.get("status") in FINAL:
            return False
        agent = txn.get(AGENTS, event.agent_id)
        changes = {"status": event.status, "finished_at": event.finished_at, "metrics": event.metrics,
                   "report_key": event.report_key, "error": event.error, "updated_at": at}
        if doc is None:  # a result for a run we never saw queued: keep it anyway
            txn.create(BACKTESTS, event.run_id, {"owner_uid": event.owner_uid, "agent_id": event.agent_id,
                                                 "created_at": at, **changes})
        else:
            txn.update(BACKTESTS, event.run_id, changes)
        if agent is not None and agent.get("owner_uid") == event.owner_uid:
            txn.update(AGENTS, event.agent_id, _agent_changes(agent, event, summary, doc or {}, at))
        return True

    return documents.transaction(record)


def _agent_changes(
    agent: dict[str, Any], event: BacktestCompleted, summary: dict[str, Any], run: dict[str, Any], at: str
) -> dict[str, Any]:
    # The run that moved the agent to `backtesting` decides where it goes; another run that
    # passes meanwhile proves the agent too, one that fails does not fail it.
    changes: dict[str, Any] = {"latest_backtest": summary, "updated_at": at}
    if run.get("standard"):
        changes["standard_backtest"] = summary
    mover = agent.get("backtesting_run")
    if agent["status"] == AgentStatus.BACKTESTING and (mover in (None, event.run_id) or event.status == SUCCEEDED):
        target = AgentStatus.BACKTESTED if event.status == SUCCEEDED else AgentStatus.BACKTEST_FAILED
        changes |= transition(agent, target, at=at, reason=event.run_id) | {"backtesting_run": None}
    return changes


def _owned_agent(agent: dict[str, Any] | None, owner_uid: str, agent_id: str) -> dict[str, Any]:
    if agent is None or agent.get("owner_uid") != owner_uid or agent.get("deleted"):
        raise NotFoundError(f"no agent {agent_id!r}")
    return agent


def _date(value: Any, name: str, default: date) -> date:
    if value is None:
        return default
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InvalidInputError(f"{name} must be an ISO date (YYYY-MM-DD), got {value!r}") from None


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"{name} must be a number, got {value!r}")
    return float(value)
