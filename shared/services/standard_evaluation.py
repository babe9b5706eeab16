"""The standard evaluation: the one backtest every agent is ranked on (SPEC §6b).

Every agent's automatic first backtest runs the same universe, window, timeframe, cash and
commission, so the backtest leaderboard compares like with like; a backtest the owner asks for
(other symbols, other dates) stays private and never ranks.

The window must not drift with the calendar (an agent submitted next month would otherwise be
judged on a different market), so it is fixed once and recorded: the first time the platform
needs it, the last two years of daily bars before that moment are written to the document
`settings/standard-evaluation` in a transaction, and every later agent reads the same record.
An operator moves every agent to a new window by editing that document; ranked runs must match
the recorded window, so the board then fills again as agents are re-evaluated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from shared.domain.clock import now_iso, parse_iso
from shared.domain.money import DEFAULT_CASH
from shared.market.universe import DEFAULT_SYMBOLS, DEFAULT_TIMEFRAME, default_window
from shared.ports.documents import DocumentStore, Transaction

COLLECTION, DOC_ID = "settings", "standard-evaluation"
__all__ = ["DEFAULT_CASH", "DEFAULT_COMMISSION", "StandardEvaluation", "proposed", "standard_evaluation"]
DEFAULT_COMMISSION = 0.0


@dataclass(frozen=True)
class StandardEvaluation:
    """What every agent's standard backtest runs on; `end` is exclusive, dates are ISO."""

    symbols: tuple[str, ...]
    start: str
    end: str
    timeframe: str = DEFAULT_TIMEFRAME
    cash: float = DEFAULT_CASH
    commission: float = DEFAULT_COMMISSION

    @property
    def evaluation_id(self) -> str:
        """A short stable id naming this evaluation (changes when any part of it does)."""
        text = "|".join([",".join(self.symbols), self.start, self.end, self.timeframe,
                         repr(float(self.cash)), repr(float(self.commission))])
        return "std-" + hashlib.sha256(text.encode()).hexdigest()[:12]

    def to_json(self) -> dict[str, Any]:
        """The evaluation as the API shows it next to every standard result."""
        return {"evaluation_id": self.evaluation_id, **asdict(self) | {"symbols": list(self.symbols)}}

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> StandardEvaluation:
        """Read the recorded document (unknown fields ignored)."""
        return cls(
            symbols=tuple(str(s) for s in doc["symbols"]), start=str(doc["start"])[:10],
            end=str(doc["end"])[:10], timeframe=str(doc.get("timeframe") or DEFAULT_TIMEFRAME),
            cash=float(doc.get("cash", DEFAULT_CASH)), commission=float(doc.get("commission", DEFAULT_COMMISSION)),
        )


def proposed(now: datetime) -> StandardEvaluation:
    """The evaluation the platform records when none is: the default universe, two years to `now`."""
    start, end = default_window(now)
    return StandardEvaluation(DEFAULT_SYMBOLS, start.date().isoformat(), end.date().isoformat())


def standard_evaluation(
    documents: DocumentStore, *, clock: Callable[[], str] = now_iso
) -> StandardEvaluation:
    """Return the recorded standard evaluation, recording it first when there is none."""
    doc = documents.get(COLLECTION, DOC_ID)
    if doc is not None:
        return StandardEvaluation.from_document(doc)

    def record(txn: Transaction) -> dict[str, Any]:
        existing = txn.get(COLLECTION, DOC_ID)
        if existing is not None:
            return existing  # another process recorded it first: everyone uses that one
        at = clock()
        chosen = proposed(parse_iso(at)).to_json()
        body = {**chosen, "owner_uid": "platform", "created_at": at, "updated_at": at}
        txn.create(COLLECTION, DOC_ID, body)
        return body

    return StandardEvaluation.from_document(documents.transaction(record))
