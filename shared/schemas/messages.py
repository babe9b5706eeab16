"""Platform messages on Pub/Sub topics (SPEC §11): JSON with a `schema_version`.

Commands are imperative (`RunBacktest`), events past tense (`BacktestCompleted`). Decoding a
malformed or unknown-version message raises InvalidInputError: a permanent error that event
handlers log and acknowledge rather than retry.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal, Self, TypeVar

from shared.domain.money import DEFAULT_CASH
from shared.domain.timeframe import Timeframe
from shared.errors import InvalidInputError

SCHEMA_VERSION = 1
M = TypeVar("M", bound="Message")


@dataclass(frozen=True, kw_only=True)
class Message:
    """Base for every platform message: knows its topic and its JSON form."""

    TOPIC = ""

    def encode(self) -> bytes:
        """Serialise as compact JSON with the schema version."""
        body = dataclasses.asdict(self) | {"schema_version": SCHEMA_VERSION}
        return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()

    @classmethod
    def decode(cls, data: bytes) -> Self:
        """Parse and check a message; InvalidInputError when it is malformed."""
        try:
            body = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInputError(f"{cls.__name__}: not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise InvalidInputError(f"{cls.__name__}: expected a JSON object")
        version = body.pop("schema_version", None)
        if version != SCHEMA_VERSION:
            raise InvalidInputError(f"{cls.__name__}: unsupported schema_version {version!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(body) - names)
        if unknown:
            raise InvalidInputError(f"{cls.__name__}: unknown field(s) {unknown}")
        try:
            message = cls(**body)
        except TypeError as exc:
            raise InvalidInputError(f"{cls.__name__}: {exc}") from exc
        message._check()
        return message

    def _check(self) -> None:
        """Raise InvalidInputError when a field has the wrong shape (override per message)."""


@dataclass(frozen=True, kw_only=True)
class RunBacktest(Message):
    """Command on `backtest-requests`: run one backtest. `run_id` is the idempotency key."""

    TOPIC = "backtest-requests"
    run_id: str
    agent_id: str
    owner_uid: str
    symbols: list[str]
    start: str  # ISO date, inclusive
    end: str  # ISO date, exclusive
    timeframe: str = Timeframe.DAY.value
    cash: float = DEFAULT_CASH
    commission: float = 0.0
    requested_at: str = ""

    def _check(self) -> None:
        if not self.symbols or not all(isinstance(s, str) and s for s in self.symbols):
            raise InvalidInputError("RunBacktest: symbols must be a non-empty list of strings")
        if self.start >= self.end:
            raise InvalidInputError("RunBacktest: start must be before end")
        if self.cash <= 0 or self.commission < 0:
            raise InvalidInputError("RunBacktest: cash must be > 0 and commission >= 0")


@dataclass(frozen=True, kw_only=True)
class BacktestCompleted(Message):
    """Event on `backtest-results`: a backtest run finished, well or badly."""

    TOPIC = "backtest-results"
    run_id: str
    agent_id: str
    owner_uid: str
    status: Literal["succeeded", "failed"]
    finished_at: str
    metrics: dict[str, Any] = field(default_factory=dict)
    report_key: str | None = None  # blob key of the full report
    error: str | None = None  # user-code traceback or the reason it failed

    def _check(self) -> None:
        if self.status not in ("succeeded", "failed"):
            raise InvalidInputError(f"BacktestCompleted: bad status {self.status!r}")


@dataclass(frozen=True, kw_only=True)
class PortfolioSnapshotted(Message):
    """Event on `performance-updates`: a paper-trading runtime's portfolio at a moment."""

    TOPIC = "performance-updates"
    session_id: str
    agent_id: str
    owner_uid: str
    timestamp: str
    portfolio_value: float
    cash: float
    starting_value: float
    trades: int = 0
    positions: list[dict[str, Any]] = field(default_factory=list)
    final: bool = False  # the last snapshot of a session (on stop)


@dataclass(frozen=True, kw_only=True)
class RunReconciliation(Message):
    """Command on `reconciliation-requests`: reconcile a paper session with its replay, or two
    backtests. `reconciliation_id` is the idempotency key."""

    TOPIC = "reconciliation-requests"
    reconciliation_id: str
    agent_id: str
    owner_uid: str
    kind: Literal["paper", "backtests"]
    session_id: str | None = None
    run_ids: list[str] = field(default_factory=list)  # backtests: [baseline, compared]
    requested_at: str = ""

    @property
    def run_id(self) -> str:
        """The job's id, under the name job launchers give it (shared.ports.jobs)."""
        return self.reconciliation_id

    def _check(self) -> None:
        if self.kind == "paper" and not self.session_id:
            raise InvalidInputError("RunReconciliation: a paper reconciliation needs its session_id")
        if self.kind == "backtests" and len(self.run_ids) != 2:
            raise InvalidInputError("RunReconciliation: comparing backtests needs two run ids")
        if self.kind not in ("paper", "backtests"):
            raise InvalidInputError(f"RunReconciliation: bad kind {self.kind!r}")
