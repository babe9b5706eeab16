"""Documents port: Firestore-shaped collections of JSON documents."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

T = TypeVar("T")
Op = Literal["==", "!=", "<", "<=", ">", ">=", "in", "array_contains"]
ChangeKind = Literal["created", "updated", "deleted"]


@dataclass(frozen=True)
class Filter:
    """One `where` clause: `field op value` (dotted paths reach nested maps)."""

    field: str
    op: Op
    value: Any


@dataclass(frozen=True)
class DocumentChange:
    """One create/update/delete of a document, as a Firestore trigger sees it."""

    kind: ChangeKind
    collection: str
    doc_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    change_id: str  # stable per change: lets idempotent handlers recognise a redelivery
    timestamp: float


class Transaction(Protocol):
    """Reads and buffered writes that commit together or not at all.

    A transaction whose reads were changed by someone else before it commits is retried by
    `DocumentStore.transaction`; writes become visible only on commit.
    """

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None: ...
    def create(self, collection: str, doc_id: str, data: dict[str, Any]) -> None: ...
    def set(self, collection: str, doc_id: str, data: dict[str, Any]) -> None: ...
    def update(self, collection: str, doc_id: str, changes: dict[str, Any]) -> None: ...
    def delete(self, collection: str, doc_id: str) -> None: ...


class Watch(Protocol):
    """A running change-feed subscription."""

    def close(self) -> None: ...


class DocumentStore(Protocol):
    """Collections of documents with queries, transactions and a change feed."""

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        """Return the document, or None when it does not exist."""
        ...

    def create(self, collection: str, doc_id: str, data: dict[str, Any]) -> None:
        """Create a document; ConflictError when it already exists."""
        ...

    def set(self, collection: str, doc_id: str, data: dict[str, Any]) -> None:
        """Create or overwrite a document."""
        ...

    def update(self, collection: str, doc_id: str, changes: dict[str, Any]) -> None:
        """Merge top-level `changes` into an existing document; NotFoundError when missing."""
        ...

    def delete(self, collection: str, doc_id: str) -> None:
        """Delete a document (no error when it does not exist)."""
        ...

    def query(
        self,
        collection: str,
        where: Sequence[Filter] = (),
        *,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[tuple[str, dict[str, Any]]]:
        """Return `(doc_id, document)` pairs matching every filter, ordered and limited."""
        ...

    def transaction(self, fn: Callable[[Transaction], T], *, max_attempts: int = 5) -> T:
        """Run `fn` in a transaction, retrying on conflict; ConflictError after max_attempts."""
        ...

    def watch(self, collection: str, on_change: Callable[[DocumentChange], None]) -> Watch:
        """Call `on_change` for every change in `collection` from now on, until closed.

        Delivery is at least once and in commit order per document; an exception raised by
        `on_change` makes the change be delivered again.
        """
        ...

    def close(self) -> None:
        """Stop the store's watches and release its connections (the application calls it once, at the end)."""
        ...
