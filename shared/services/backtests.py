"""Backtest use cases (SPEC §4, §7): request, launch and record a run.

Each handler loads the `BacktestRun` and its `Agent` in one unit of work, calls their methods
and commits. Only an agent without a passed backtest moves `backtesting -> backtested |
backtest_failed` with a run (`Agent.backtest_started`), so a backtest never blocks paper
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

from shared.domain.backtest_run import BacktestRun, RunStatus
from shared.domain.clock import now_iso
from shared.domain.money import DEFAULT_CASH
from shared.domain.timeframe import Timeframe
from shared.domain.unit_of_work import UnitOfWork, run_in_transaction
from shared.errors import InvalidInputError
from shared.market.universe import DEFAULT_SYMBOLS, DEFAULT_TIMEFRAME, default_window
from shared.ports import DocumentStore, MessageBus, OutgoingMessage
from shared.ports.jobs import JobHandle, JobLauncher
from shared.schemas.messages import BacktestCompleted, RunBacktest
from shared.services.backtest_views import get_backtest

log = logging.getLogger(__name__)
QUEUED, RUNNING, SUCCEEDED, FAILED = (s.value for s in RunStatus)
FINAL = frozenset({SUCCEEDED, FAILED})
MAX_SYMBOLS = 100
__all__ = ["FAILED", "FINAL", "QUEUED", "RUNNING", "SUCCEEDED", "get_backtest", "launch_backtest",
           "parse_request", "publish_completed", "record_backtest_result", "request_backtest"]
Clock = Callable[[], str]


def request_backtest(
    owner_uid: str, agent_id: str, body: Mapping[str, Any], *, documents: DocumentStore,
    messages: MessageBus, clock: Clock = now_iso,
) -> dict[str, Any]:
    """Queue a backtest of the caller's agent and publish its RunBacktest; return {run_id, status}."""
    at = clock()
    run = RunBacktest(run_id=f"{agent_id}-{secrets.token_hex(6)}", agent_id=agent_id, owner_uid=owner_uid,
                      requested_at=at, **parse_request(body))

    def queue(uow: UnitOfWork) -> None:
        uow.agents.owned(agent_id, owner_uid).check_backtestable()
        uow.backtest_runs.add(BacktestRun.requested(run, at=at))

    run_in_transaction(documents, queue)
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
    timeframe = Timeframe.parse(body.get("timeframe", DEFAULT_TIMEFRAME)).value
    cash = _number(body.get("cash", DEFAULT_CASH), "cash")
    commission = _number(body.get("commission", 0.0), "commission")
    if cash <= 0 or not 0 <= commission < 1:
        raise InvalidInputError("cash must be > 0 and commission a fraction in [0, 1)")
    return {"symbols": [s.strip().upper() for s in symbols], "start": start.isoformat(), "end": end.isoformat(),
            "timeframe": timeframe, "cash": cash, "commission": commission}


def launch_backtest(
    run: RunBacktest, *, documents: DocumentStore, messages: MessageBus, launcher: JobLauncher,
    clock: Clock = now_iso,
) -> JobHandle | None:
    """Mark the run `running` (and its agent `backtesting`), then launch the job; None if already done."""
    at = clock()

    def claim(uow: UnitOfWork) -> bool:
        stored, agent = uow.backtest_runs.get(run.run_id), uow.agents.get(run.agent_id)
        if stored is not None and stored.status is not RunStatus.QUEUED:
            return False  # running or finished: a redelivery, never a second launch
        if agent is None or agent.owner_uid != run.owner_uid:
            raise InvalidInputError(f"run {run.run_id} names unknown agent {run.agent_id}")
        agent.backtest_started(run.run_id, at=at)
        uow.agents.save(agent)
        if stored is None:  # the request never reached the store (another queue): keep it now
            stored = BacktestRun.requested(run, at=at)
            stored.start(at=at)
            uow.backtest_runs.add(stored)
        else:
            stored.start(at=at)
            uow.backtest_runs.save(stored)
        return True

    if not run_in_transaction(documents, claim):
        log.info("backtest %s already launched: redelivery ignored", run.run_id)
        return None
    try:
        handle = launcher.launch(run)
    except Exception as exc:  # the run is `running` now: it must end, whatever failed
        log.exception("backtest %s could not be launched", run.run_id)
        event = BacktestCompleted(run_id=run.run_id, agent_id=run.agent_id, owner_uid=run.owner_uid,
                                  status="failed", finished_at=clock(), error=f"the job could not be launched: {exc}")
        publish_completed(messages, event)
        return None

    def remember(uow: UnitOfWork) -> None:
        launched = uow.backtest_runs.require(run.run_id)
        launched.job_launched(dataclasses.asdict(handle), at=clock())
        uow.backtest_runs.save(launched)

    run_in_transaction(documents, remember)
    return handle


def publish_completed(messages: MessageBus, event: BacktestCompleted) -> None:
    """Publish a run's result on `backtest-results`."""
    attributes = {"run_id": event.run_id, "agent_id": event.agent_id, "status": event.status}
    messages.publish(BacktestCompleted.TOPIC, [OutgoingMessage(event.encode(), attributes)])
    log.info("backtest %s %s", event.run_id, event.status)


def record_backtest_result(event: BacktestCompleted, *, documents: DocumentStore, clock: Clock = now_iso) -> bool:
    """Store the result on the run and the agent's summary; False (nothing changed) for a redelivery."""
    at = clock()

    def record(uow: UnitOfWork) -> bool:
        stored, agent = uow.backtest_runs.get(event.run_id), uow.agents.get(event.agent_id)
        run = stored or BacktestRun.unseen(event.run_id, owner_uid=event.owner_uid, agent_id=event.agent_id, at=at)
        if not run.record(event, at=at):
            return False
        if stored is None:
            uow.backtest_runs.add(run)
        else:
            uow.backtest_runs.save(run)
        if agent is not None and agent.owner_uid == event.owner_uid:
            agent.backtest_finished(run.summary(), standard=run.standard, at=at)
            uow.agents.save(agent)
        return True

    return run_in_transaction(documents, record)


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
