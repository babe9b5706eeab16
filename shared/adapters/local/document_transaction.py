"""The transaction handle `SqliteDocumentStore.transaction` passes to its function.

It records the version of every document it reads and buffers every write; the store commits
the writes only if those versions still hold. Like Firestore, it refuses reads after writes.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from shared.adapters.local.document_values import check_collection, check_doc_id, check_document
from shared.errors import ConflictError, InvalidInputError
from shared.ports.documents import Transaction

WriteKind = Literal["create", "set", "update", "delete"]
Reader = Callable[[str, str], "tuple[dict[str, Any], int] | None"]
Committer = Callable[[list["Write"], dict[tuple[str, str], "int | None"]], bool]
T = TypeVar("T")


@dataclass(frozen=True)
class Write:
    """One buffered write: what to do to which document."""

    kind: WriteKind
    collection: str
    doc_id: str
    data: dict[str, Any] | None


class SqliteTransaction:
    """Reads with recorded versions and buffered writes for one attempt of a transaction."""

    def __init__(self, read: Reader) -> None:
        self._read = read
        self._snapshots: dict[tuple[str, str], dict[str, Any] | None] = {}
        self.reads: dict[tuple[str, str], int | None] = {}
        self.writes: list[Write] = []
        self._finished = False

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        """Return the document as of this transaction's first read of it, or None."""
        self._check_open()
        if self.writes:
            raise InvalidInputError(
                "a transaction must do all its reads before its writes (as Firestore requires)"
            )
        key = (check_collection(collection), check_doc_id(doc_id))
        if key not in self.reads:
            found = self._read(*key)
            self.reads[key] = found[1] if found else None
            self._snapshots[key] = found[0] if found else None
        snapshot = self._snapshots[key]
        return copy.deepcopy(snapshot) if snapshot is not None else None

    def create(self, collection: str, doc_id: str, data: dict[str, Any]) -> None:
        """Create the document at commit; ConflictError then if it exists."""
        self._buffer("create", collection, doc_id, data)

    def set(self, collection: str, doc_id: str, data: dict[str, Any]) -> None:
        """Create or overwrite the document at commit."""
        self._buffer("set", collection, doc_id, data)

    def update(self, collection: str, doc_id: str, changes: dict[str, Any]) -> None:
        """Merge top-level `changes` at commit; NotFoundError then if the document is missing."""
        if isinstance(changes, dict) and not changes:
            raise InvalidInputError("a transaction cannot apply empty changes (Firestore refuses)")
        self._buffer("update", collection, doc_id, changes)

    def delete(self, collection: str, doc_id: str) -> None:
        """Delete the document at commit (no error when it does not exist)."""
        self._check_open()
        key = (check_collection(collection), check_doc_id(doc_id))
        self.writes.append(Write("delete", *key, None))

    def finish(self) -> None:
        """Refuse any further use (a handle kept past its function would otherwise mislead)."""
        self._finished = True

    def _buffer(self, kind: WriteKind, collection: str, doc_id: str, data: dict[str, Any]) -> None:
        self._check_open()
        check_document(data)
        # Copy now: the caller may keep mutating its dict after handing it over.
        self.writes.append(
            Write(kind, check_collection(collection), check_doc_id(doc_id), copy.deepcopy(data))
        )

    def _check_open(self) -> None:
        if self._finished:
            raise InvalidInputError("this transaction has ended; use the handle only inside fn")


def run_transaction(
    fn: Callable[[Transaction], T], read: Reader, commit: Committer, *, max_attempts: int,
    on_conflict: Callable[[int], None] | None = None,
) -> T:
    """Run `fn` on a fresh transaction per attempt until `commit` accepts its writes (the versions it
    read still hold); `on_conflict(attempt)` between attempts; ConflictError after `max_attempts`."""
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    for attempt in range(1, max_attempts + 1):
        txn = SqliteTransaction(read)
        try:
            result = fn(txn)
        finally:
            txn.finish()
        if commit(txn.writes, txn.reads):
            return result
        if on_conflict is not None:
            on_conflict(attempt)
    raise ConflictError(f"transaction still conflicting after {max_attempts} attempts")
