"""Aggregates over documents, and the repository that loads and stages them in a transaction.

An aggregate is a typed class that owns one document's state and the rules that change it
(legal transitions, invariants). It keeps the fields it does not model, so documents written
by an older or newer version survive a round trip unchanged. The repository reads documents
inside one transaction (`shared.domain.unit_of_work`) and writes back only what changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from shared.errors import NotFoundError
from shared.ports.documents import Transaction


class Aggregate(Protocol):
    """What a repository needs of an aggregate."""

    @property
    def id(self) -> str: ...

    def to_document(self) -> dict[str, Any]: ...


class Owned(Aggregate, Protocol):
    """An aggregate that belongs to one user."""

    @property
    def owner_uid(self) -> str: ...

    def visible_to(self, uid: str) -> bool:
        """Whether `uid` may see it (its owner, and only while it is not deleted)."""
        ...


A = TypeVar("A", bound=Aggregate)
O = TypeVar("O", bound=Owned)


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The top-level fields of `after` that differ from `before` (removed fields become None)."""
    changes = {key: value for key, value in after.items() if key not in before or before[key] != value}
    changes.update({key: None for key in before if key not in after and before[key] is not None})
    return changes


class DocumentRepository(Generic[A]):
    """Loads aggregates of one collection inside a transaction and stages their writes.

    Subclasses set `collection`, `kind` (the word used in "<kind> <id> not found") and
    implement `load(doc_id, document)`. All reads of a transaction must come before its
    writes (Firestore's rule), which a load-then-act-then-save handler does naturally.
    """

    collection: ClassVar[str]
    kind: ClassVar[str]

    def __init__(self, txn: Transaction) -> None:
        self._txn = txn
        self._read: dict[str, dict[str, Any]] = {}

    def load(self, doc_id: str, document: dict[str, Any]) -> A:
        raise NotImplementedError

    def get(self, doc_id: str) -> A | None:
        """The aggregate stored under `doc_id`, or None."""
        document = self._txn.get(self.collection, doc_id)
        if document is None:
            return None
        self._read[doc_id] = dict(document)
        return self.load(doc_id, document)

    def require(self, doc_id: str) -> A:
        """The aggregate under `doc_id`; NotFoundError otherwise."""
        found = self.get(doc_id)
        if found is None:
            raise NotFoundError(f"{self.kind} {doc_id} not found")
        return found

    def add(self, aggregate: A) -> None:
        """Stage the creation of a new document (the transaction fails if the id is taken)."""
        document = aggregate.to_document()
        self._txn.create(self.collection, aggregate.id, document)
        self._read[aggregate.id] = document

    def save(self, aggregate: A) -> None:
        """Stage the fields that changed since the aggregate was loaded or added."""
        document = aggregate.to_document()
        before = self._read.get(aggregate.id)
        if before is None:
            raise RuntimeError(f"{self.kind} {aggregate.id} was not loaded in this transaction")
        changes = changes_between(before, document)
        if changes:
            self._txn.update(self.collection, aggregate.id, changes)
            self._read[aggregate.id] = document

    def remove(self, aggregate: A) -> None:
        self._txn.delete(self.collection, aggregate.id)
        self._read.pop(aggregate.id, None)


class OwnedRepository(DocumentRepository[O]):
    """A repository of user-owned aggregates: the one ownership check of the platform.

    Someone else's (or a deleted) aggregate is reported exactly like a missing one, so an id
    says nothing about whether it exists.
    """

    def owned(self, doc_id: str, uid: str) -> O:
        """The aggregate under `doc_id` if `uid` may see it; NotFoundError otherwise."""
        found = self.get(doc_id)
        if found is None or not found.visible_to(uid):
            raise NotFoundError(f"{self.kind} {doc_id} not found")
        return found
