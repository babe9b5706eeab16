"""A unit of work: one document-store transaction and the repositories that read and write in it.

Command handlers in `shared.services` are short: open a unit of work, load the aggregates,
call one method, and let the transaction commit the staged writes (or retry the whole
function on a conflict; nothing is written from a failed attempt).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from shared.ports.documents import DocumentStore, Transaction

if TYPE_CHECKING:  # the aggregates' modules import this one's callers, not this module
    from shared.domain.agent import AgentRepository
    from shared.domain.backtest_run import BacktestRunRepository
    from shared.domain.broker_account import BrokerAccountRepository
    from shared.domain.paper_session import PaperSessionRepository

T = TypeVar("T")


class UnitOfWork:
    """The repositories of one transaction. Build it with `run_in_transaction`."""

    def __init__(self, txn: Transaction) -> None:
        self.txn = txn

    @cached_property
    def agents(self) -> AgentRepository:
        from shared.domain.agent import AgentRepository

        return AgentRepository(self.txn)

    @cached_property
    def backtest_runs(self) -> BacktestRunRepository:
        from shared.domain.backtest_run import BacktestRunRepository

        return BacktestRunRepository(self.txn)

    @cached_property
    def sessions(self) -> PaperSessionRepository:
        from shared.domain.paper_session import PaperSessionRepository

        return PaperSessionRepository(self.txn)

    @cached_property
    def accounts(self) -> BrokerAccountRepository:
        from shared.domain.broker_account import BrokerAccountRepository

        return BrokerAccountRepository(self.txn)


def run_in_transaction(documents: DocumentStore, handler: Callable[[UnitOfWork], T], *, max_attempts: int = 5) -> T:
    """Run `handler` with a fresh unit of work per attempt; its staged writes commit together."""
    return documents.transaction(lambda txn: handler(UnitOfWork(txn)), max_attempts=max_attempts)


def read_only(documents: DocumentStore) -> UnitOfWork:
    """Repositories that read the store directly, for queries: no transaction to pay for or lock to take.

    What they load is each document's latest version, not a consistent snapshot; anything that
    decides a write must load in `run_in_transaction` instead, and a write through these raises.
    """
    return UnitOfWork(_Reads(documents))


class _Reads:
    """A Transaction that only reads (a query's unit of work)."""

    def __init__(self, documents: DocumentStore) -> None:
        self._documents = documents

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        return self._documents.get(collection, doc_id)

    def create(self, collection: str, doc_id: str, data: dict[str, Any]) -> None:
        self._refuse()

    def set(self, collection: str, doc_id: str, data: dict[str, Any]) -> None:
        self._refuse()

    def update(self, collection: str, doc_id: str, changes: dict[str, Any]) -> None:
        self._refuse()

    def delete(self, collection: str, doc_id: str) -> None:
        self._refuse()

    @staticmethod
    def _refuse() -> None:
        raise RuntimeError("a read-only unit of work writes nothing: load in run_in_transaction to change documents")
