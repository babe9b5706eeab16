"""MemoryDocumentStore: the documents port in this process's memory, for fast service tests.

Real optimistic transactions (each document carries a version that never repeats; a transaction
whose reads changed before it commits is retried) and a real change feed (one delivery thread
per watch, in commit order, a raising handler gets the same change again), as the SQLite store
has, without a file. Values are stored as JSON round-trips, so callers never share a dict with it.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from shared.adapters.local.document_transaction import Write, run_transaction
from shared.adapters.local.document_values import (
    check_collection,
    check_doc_id,
    check_document,
    check_page,
    deliver_queued,
)
from shared.adapters.memory.document_matching import has_order_field, matches, order_key
from shared.errors import ConflictError, InvalidInputError, NotFoundError
from shared.ports.documents import ChangeKind, DocumentChange, Filter, Transaction

T = TypeVar("T")
Key = tuple[str, str]
log = logging.getLogger(__name__)


class MemoryDocumentStore:
    """Collections of JSON documents in a dict, with versions, transactions and watches."""

    def __init__(self) -> None:
        self._docs: dict[Key, tuple[dict[str, Any], int]] = {}
        self._version = 0
        self._lock = threading.Lock()
        self._watches: list[MemoryWatch] = []

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        """Return the document, or None when it does not exist."""
        found = self._read(check_collection(collection), check_doc_id(doc_id))
        return found[0] if found else None

    def create(self, collection: str, doc_id: str, data: dict[str, Any]) -> None:
        """Create a document; ConflictError when it already exists."""
        self._commit([_write("create", collection, doc_id, data)], {})

    def set(self, collection: str, doc_id: str, data: dict[str, Any]) -> None:
        """Create or overwrite a document."""
        self._commit([_write("set", collection, doc_id, data)], {})

    def update(self, collection: str, doc_id: str, changes: dict[str, Any]) -> None:
        """Merge top-level `changes` into an existing document; NotFoundError when missing."""
        self._commit([_write("update", collection, doc_id, changes)], {})

    def delete(self, collection: str, doc_id: str) -> None:
        """Delete a document (no error when it does not exist)."""
        self._commit([Write("delete", check_collection(collection), check_doc_id(doc_id), None)], {})

    def query(
        self, collection: str, where: Sequence[Filter] = (), *, order_by: str | None = None,
        descending: bool = False, limit: int | None = None, offset: int = 0,
    ) -> list[tuple[str, dict[str, Any]]]:
        """Return `(doc_id, document)` pairs matching every filter, ordered and limited."""
        check_collection(collection)
        check_page(limit, offset)
        if order_by is not None:
            matches({}, [Filter(order_by, "==", None)])  # the same check of the path as a filter's
        with self._lock:
            rows = [(doc_id, doc) for (coll, doc_id), (doc, _) in self._docs.items() if coll == collection]
        rows = [(doc_id, doc) for doc_id, doc in rows if matches(doc, where)]
        if order_by is None:
            rows.sort(key=lambda row: row[0], reverse=descending)
        else:
            rows = [row for row in rows if has_order_field(row[1], order_by)]
            rows.sort(key=lambda row: (order_key(row[1], order_by), row[0]), reverse=descending)
        end = None if limit is None else offset + limit
        return [(doc_id, _copy(doc)) for doc_id, doc in rows[offset:end]]

    def transaction(self, fn: Callable[[Transaction], T], *, max_attempts: int = 5) -> T:
        """Run `fn` in a transaction, retrying on conflict; ConflictError after max_attempts."""
        # The SQLite store's transaction handle: reads with versions, buffered writes, no SQL in it.
        return run_transaction(fn, self._read, self._commit, max_attempts=max_attempts)

    def watch(self, collection: str, on_change: Callable[[DocumentChange], None]) -> MemoryWatch:
        """Call `on_change` for every change in `collection` from now on, until closed."""
        watch = MemoryWatch(check_collection(collection), on_change)
        with self._lock:
            self._watches = [w for w in self._watches if not w.closed] + [watch]
        return watch

    def close(self) -> None:
        """Stop the watches (the documents stay until the store is dropped)."""
        with self._lock:
            watches, self._watches = self._watches, []
        for watch in watches:
            watch.close()

    def _read(self, collection: str, doc_id: str) -> tuple[dict[str, Any], int] | None:
        with self._lock:
            found = self._docs.get((collection, doc_id))
        return (_copy(found[0]), found[1]) if found else None

    def _commit(self, writes: list[Write], reads: dict[Key, int | None]) -> bool:
        """Apply `writes` together if every read version still holds; False on a conflict."""
        with self._lock:
            for key, version in reads.items():
                found = self._docs.get(key)
                if (found[1] if found else None) != version:
                    return False
            staged: dict[Key, dict[str, Any] | None] = {}
            changes: list[tuple[Key, dict[str, Any] | None, dict[str, Any] | None]] = []
            for write in writes:  # every check before any change: a refused write leaves nothing
                key = (write.collection, write.doc_id)
                current = self._docs.get(key)
                before = staged[key] if key in staged else (current[0] if current else None)
                after = _apply(write, before)
                if after is not before:
                    staged[key] = after
                    changes.append((key, before, after))
            now = time.time()
            for key, before, after in changes:
                self._version += 1
                if after is None:
                    self._docs.pop(key, None)
                else:
                    self._docs[key] = (after, self._version)
                kind: ChangeKind = "deleted" if after is None else "updated" if before is not None else "created"
                change = DocumentChange(kind, key[0], key[1], _copy(before), _copy(after), str(self._version), now)
                for watch in self._watches:
                    watch.offer(change)
        return True


class MemoryWatch:
    """Deliver one collection's changes to a handler on a thread of its own, in commit order."""

    def __init__(self, collection: str, on_change: Callable[[DocumentChange], None]) -> None:
        self.collection, self._on_change = collection, on_change
        self._queue: queue.Queue[DocumentChange] = queue.Queue()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"memory-watch-{collection}", daemon=True)
        self._thread.start()

    @property
    def closed(self) -> bool:
        """True once closed."""
        return self._stopped.is_set()

    def offer(self, change: DocumentChange) -> None:
        """Queue `change` when it is in this watch's collection."""
        if change.collection == self.collection and not self.closed:
            self._queue.put(change)

    def close(self) -> None:
        """Stop delivering; returns once the delivery thread has ended (unless called from it)."""
        self._stopped.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        deliver_queued(self._on_change, self._queue, self._stopped)


def _write(kind: Any, collection: str, doc_id: str, data: dict[str, Any]) -> Write:
    return Write(kind, check_collection(collection), check_doc_id(doc_id), _copy(check_document(data)))


def _apply(write: Write, before: dict[str, Any] | None) -> dict[str, Any] | None:
    """The document after `write`; `before` itself when the write changes nothing."""
    where = f"{write.collection}/{write.doc_id}"
    if write.kind == "create" and before is not None:
        raise ConflictError(f"document {where} already exists")
    if write.kind == "update" and before is None:
        raise NotFoundError(f"document {where} does not exist")
    if write.kind == "delete":
        return None if before is not None else before
    if write.kind == "update":
        if not write.data:
            return before
        assert before is not None
        return {**before, **_copy(write.data)}
    if write.data is None:
        raise InvalidInputError(f"{write.kind} of {where} needs data")
    return _copy(write.data)


def _copy(value: Any) -> Any:
    return None if value is None else json.loads(json.dumps(value))
