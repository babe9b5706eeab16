"""The backtest-run aggregate (SPEC §4, §7): one run's request, its states and its result.

A run lives on `backtests/{run_id}`: queued -> running -> succeeded | failed. `BacktestRun` is
the only builder and writer of that document: the owner's request, the automatic standard
evaluation, the launch, the job handle, the result and the data label all go through it.
`run_id` is every handler's idempotency key: a run starts once and finishes once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from shared.domain.aggregate import OwnedRepository
from shared.domain.stored_fields import NOT_STORED, join_document, split_document
from shared.errors import IllegalTransitionError, InvalidInputError
from shared.schemas.collections import BACKTESTS
from shared.schemas.messages import BacktestCompleted, RunBacktest


class RunStatus(StrEnum):
    """Where a run is, stored on the run document as `status`."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


R = RunStatus
RUN_TRANSITIONS: Mapping[RunStatus, frozenset[RunStatus]] = {
    # A result is the truth about a run: it is recorded even when it overtakes the launch.
    R.QUEUED: frozenset({R.RUNNING, R.SUCCEEDED, R.FAILED}),
    R.RUNNING: frozenset({R.SUCCEEDED, R.FAILED}),
    R.SUCCEEDED: frozenset(),
    R.FAILED: frozenset(),
}
FINISHED = frozenset({R.SUCCEEDED, R.FAILED})


@dataclass(eq=False, kw_only=True)
class BacktestRun:
    """A run document as a typed object; build it with `requested`, `unseen` or `from_document`."""

    run_id: str
    owner_uid: str
    agent_id: str
    status: RunStatus
    automatic: bool = False
    standard: bool = False  # the agent's standard evaluation: the only run the leaderboard ranks
    evaluation: dict[str, Any] | None = None
    request: dict[str, Any] | None = None  # the RunBacktest, field by field
    job: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    report_key: str | None = None
    error: str | None = None
    data: dict[str, Any] | None = None  # which market data the finished run used
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    updated_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    absent: frozenset[str] = field(default=frozenset(), repr=False)

    _NOT_STORED: ClassVar[frozenset[str]] = NOT_STORED | {"run_id"}
    # Fields a new run does not write until something sets them (the document shape of a queued run).
    _UNSET_WHEN_QUEUED: ClassVar[frozenset[str]] = frozenset({
        "evaluation", "job", "metrics", "report_key", "error", "data", "started_at", "finished_at"})

    @classmethod
    def requested(
        cls, request: RunBacktest, *, at: str, automatic: bool = False, evaluation: Mapping[str, Any] | None = None
    ) -> BacktestRun:
        """A queued run; with `evaluation` it is the agent's standard evaluation."""
        return cls(run_id=request.run_id, owner_uid=request.owner_uid, agent_id=request.agent_id,
                   status=R.QUEUED, automatic=automatic, standard=evaluation is not None,
                   evaluation=dict(evaluation) if evaluation is not None else None,
                   request=dataclasses.asdict(request), created_at=at, updated_at=at,
                   absent=cls._UNSET_WHEN_QUEUED - ({"evaluation"} if evaluation is not None else set()))

    @classmethod
    def unseen(cls, run_id: str, *, owner_uid: str, agent_id: str, at: str) -> BacktestRun:
        """A run whose result arrives before (or without) its request: kept anyway, without a request."""
        return cls(run_id=run_id, owner_uid=owner_uid, agent_id=agent_id, status=R.QUEUED, created_at=at,
                   updated_at=at, absent=cls._UNSET_WHEN_QUEUED | {"request", "automatic", "standard"})

    @classmethod
    def from_document(cls, run_id: str, document: Mapping[str, Any]) -> BacktestRun:
        """The run stored under `run_id`; InvalidInputError when the document is malformed."""
        values, extra, absent = split_document(cls, document, not_stored=cls._NOT_STORED)
        try:
            values["status"] = RunStatus(document["status"])
            missing = {"owner_uid", "agent_id"} - set(document)
            if missing:
                raise KeyError(", ".join(sorted(missing)))
        except (KeyError, ValueError) as exc:
            raise InvalidInputError(f"backtest run {run_id} document is malformed: {exc!r}") from exc
        return cls(run_id=run_id, **values, extra=extra, absent=absent)

    @property
    def id(self) -> str:
        return self.run_id

    def to_document(self) -> dict[str, Any]:
        """The document as stored: unknown fields kept, absent fields left out while unset."""
        return join_document(self, not_stored=self._NOT_STORED)

    def visible_to(self, uid: str) -> bool:
        """Only its owner reads a run."""
        return self.owner_uid == uid

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def run_request(self) -> RunBacktest:
        """The RunBacktest the run was queued with; InvalidInputError when it holds none."""
        if not self.request:
            raise InvalidInputError(f"backtest run {self.run_id} holds no request")
        return RunBacktest(**self.request)

    def start(self, *, at: str) -> bool:
        """Mark the run running; False (nothing changed) when it already started or finished."""
        if self.status is not R.QUEUED:
            return False
        self._move_to(R.RUNNING, at=at)
        self.started_at = at
        return True

    def job_launched(self, job: Mapping[str, Any], *, at: str) -> None:
        """Remember the job that runs it (its handle, for status and cancellation)."""
        self.job, self.updated_at = dict(job), at

    def succeed(self, *, finished_at: str, metrics: Mapping[str, Any], report_key: str | None, at: str) -> None:
        """Record a passed run: its metrics and where its report is."""
        self._finish(R.SUCCEEDED, finished_at=finished_at, metrics=metrics, report_key=report_key, error=None, at=at)

    def fail(self, reason: str | None, *, finished_at: str, at: str, metrics: Mapping[str, Any] | None = None,
             report_key: str | None = None) -> None:
        """Record a failed run and why (the agent's traceback or the platform's reason)."""
        self._finish(R.FAILED, finished_at=finished_at, metrics=metrics or {}, report_key=report_key, error=reason,
                     at=at)

    def record(self, event: BacktestCompleted, *, at: str) -> bool:
        """Record the job's result; False (nothing changed) when the run already finished."""
        if self.finished:
            return False
        if event.status == R.SUCCEEDED.value:
            self.succeed(finished_at=event.finished_at, metrics=event.metrics, report_key=event.report_key, at=at)
        else:
            self.fail(event.error, finished_at=event.finished_at, metrics=event.metrics,
                      report_key=event.report_key, at=at)
        return True

    def label_data(self, data: Mapping[str, Any]) -> None:
        """Say which market data the finished run used (its bars never change: labelled once)."""
        self.data = dict(data)

    def summary(self) -> dict[str, Any]:
        """What the agent document shows of its latest (and standard) run.

        With the run's symbols when it holds its request: paper trading started without symbols
        trades those of the agent's latest backtest (the API's documented default).
        """
        summary: dict[str, Any] = {"run_id": self.run_id, "status": self.status.value, "finished_at": self.finished_at,
                   "metrics": self.metrics, "report_key": self.report_key, "error": self.error}
        if self.request and self.request.get("symbols"):
            summary["symbols"] = list(self.request["symbols"])
        return summary

    def _finish(self, target: RunStatus, *, finished_at: str, metrics: Mapping[str, Any], report_key: str | None,
                error: str | None, at: str) -> None:
        self._move_to(target, at=at)
        self.finished_at, self.metrics, self.report_key, self.error = finished_at, dict(metrics), report_key, error
        self.absent -= {"finished_at", "metrics", "report_key", "error"}  # a finished run shows all four

    def _move_to(self, target: RunStatus, *, at: str) -> None:
        if target not in RUN_TRANSITIONS[self.status]:
            raise IllegalTransitionError(
                f"backtest run cannot go from {self.status.value} to {target.value}",
                details={"from": self.status.value, "to": target.value},
            )
        self.status, self.updated_at = target, at


class BacktestRunRepository(OwnedRepository[BacktestRun]):
    """Runs in the `backtests` collection; `owned(run_id, uid)` is the owner's read check."""

    collection = BACKTESTS
    kind = "backtest run"

    def load(self, doc_id: str, document: dict[str, Any]) -> BacktestRun:
        return BacktestRun.from_document(doc_id, document)
