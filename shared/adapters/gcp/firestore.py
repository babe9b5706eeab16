"""FirestoreDocumentStore: the documents port on Cloud Firestore (google-cloud-firestore).

The client is created on first use, never at import, and honours FIRESTORE_EMULATOR_HOST.
Every client exception leaves as a shared.errors type; every value returned is plain JSON.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from google.cloud import firestore
from google.cloud.firestore_v1 import ReadAfterWriteError
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.field_path import FieldPath

from shared.adapters.gcp.errors import FIRESTORE
from shared.adapters.gcp.firestore_values import plain
from shared.adapters.gcp.firestore_watch import FirestoreWatch
from shared.adapters.local.document_values import (
    check_collection,
    check_doc_id,
    check_document,
    check_filter,
    check_page,
)
from shared.errors import ConflictError, InvalidInputError, NotFoundError
from shared.ports.documents import DocumentChange, Filter, Transaction

T = TypeVar("T")
# The client signals exhausted retries with a ValueError whose message starts so.
_EXHAUSTED = "Failed to commit transaction"


def _field_paths(changes: dict[str, Any]) -> dict[str, Any]:
    """Quote keys so `update` merges top-level fields even when a key contains a dot."""
    return {FieldPath(key).to_api_repr(): value for key, value in changes.items()}


class FirestoreDocumentStore:
    """Collections of documents in the Firestore database `database` of `project`."""

    def __init__(self, project: str, database: str = "(default)") -> None:
        if not project:
            raise InvalidInputError("a Google Cloud project id is required for Firestore")
        self._project = project
        self._database = database
        self._client_instance: firestore.Client | None = None
        self._lock = threading.Lock()
        self._watches: list[FirestoreWatch] = []

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        """Return the document, or None when it does not exist."""
        ref = self._ref(collection, doc_id)
        with FIRESTORE.translated(f"get {ref.path}"):
            snapshot = ref.get()
        return plain(snapshot.to_dict()) if snapshot.exists else None

    def create(self, collection: str, doc_id: str, data: dict[str, Any]) -> None:
        """Create a document; ConflictError when it already exists."""
        ref = self._ref(collection, doc_id)
        with FIRESTORE.translated(f"create {ref.path}"):
            ref.create(check_document(data))

    def set(self, collection: str, doc_id: str, data: dict[str, Any]) -> None:
        """Create or overwrite a document."""
        ref = self._ref(collection, doc_id)
        with FIRESTORE.translated(f"set {ref.path}"):
            ref.set(check_document(data))

    def update(self, collection: str, doc_id: str, changes: dict[str, Any]) -> None:
        """Merge top-level `changes` into an existing document; NotFoundError when missing."""
        ref = self._ref(collection, doc_id)
        check_document(changes, what="changes")
        with FIRESTORE.translated(f"update {ref.path}"):
            if not changes:  # Firestore refuses an empty update; only existence is checked
                if not ref.get().exists:
                    raise NotFoundError(f"update {ref.path}: not found")
                return
            ref.update(_field_paths(changes))

    def delete(self, collection: str, doc_id: str) -> None:
        """Delete a document (no error when it does not exist)."""
        ref = self._ref(collection, doc_id)
        with FIRESTORE.translated(f"delete {ref.path}"):
            ref.delete()

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
        check_page(limit, offset)
        query: Any = self._client().collection(check_collection(collection))
        for flt in where:
            if not isinstance(flt, Filter):
                raise TypeError(f"where must hold Filter objects, got {flt!r}")
            check_filter(flt.field, flt.op, flt.value)
            value = list(flt.value) if flt.op == "in" else flt.value
            query = query.where(filter=FieldFilter(flt.field, flt.op, value))
        if order_by is not None:
            check_filter(order_by, "==", None)
            direction = firestore.Query.DESCENDING if descending else firestore.Query.ASCENDING
            query = query.order_by(order_by, direction=direction)
        elif descending:
            query = query.order_by(FieldPath.document_id(), direction=firestore.Query.DESCENDING)
        if offset:
            query = query.offset(offset)
        if limit is not None:
            if limit == 0:
                return []  # Firestore treats limit 0 as "no limit"
            query = query.limit(limit)
        with FIRESTORE.translated(f"query {collection}"):
            return [(snap.id, plain(snap.to_dict())) for snap in query.stream()]

    def transaction(self, fn: Callable[[Transaction], T], *, max_attempts: int = 5) -> T:
        """Run `fn` in a transaction, retrying on conflict; ConflictError after max_attempts."""
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        client = self._client()

        @firestore.transactional
        def attempt(txn: firestore.Transaction) -> T:
            handle = FirestoreTransaction(client, txn)
            try:
                return fn(handle)
            finally:
                handle.finish()

        with FIRESTORE.translated("transaction"):
            try:
                return attempt(client.transaction(max_attempts=max_attempts))
            except ValueError as exc:
                if str(exc).startswith(_EXHAUSTED):
                    raise ConflictError(
                        f"transaction still conflicting after {max_attempts} attempts"
                    ) from exc
                raise

    def watch(self, collection: str, on_change: Callable[[DocumentChange], None]) -> FirestoreWatch:
        """Call `on_change` for every change in `collection` from now on, until closed."""
        ref = self._client().collection(check_collection(collection))
        with FIRESTORE.translated(f"watch {collection}"):
            watch = FirestoreWatch(ref, collection, on_change)
        with self._lock:
            self._watches.append(watch)
        return watch

    def close(self) -> None:
        """Stop this store's watches and close the client."""
        with self._lock:
            watches, self._watches = self._watches, []
            client, self._client_instance = self._client_instance, None
        for watch in watches:
            watch.close()
        if client is not None:
            client.close()

    def _client(self) -> firestore.Client:
        with self._lock:
            if self._client_instance is None:
                with FIRESTORE.translated("connect to Firestore"):
                    self._client_instance = firestore.Client(
                        project=self._project, database=self._database
                    )
            return self._client_instance

    def _ref(self, collection: str, doc_id: str) -> Any:
        collection_ref = self._client().collection(check_collection(collection))
        return collection_ref.document(check_doc_id(doc_id))


class FirestoreTransaction:
    """The handle `FirestoreDocumentStore.transaction` passes to its function."""

    def __init__(self, client: firestore.Client, txn: firestore.Transaction) -> None:
        self._client = client
        self._txn = txn
        self._finished = False

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        """Return the document as read in this transaction, or None."""
        ref = self._ref(collection, doc_id)
        try:
            with FIRESTORE.translated(f"get {ref.path} in a transaction"):
                snapshot = ref.get(transaction=self._txn)
        except ReadAfterWriteError as exc:
            raise InvalidInputError(
                "a transaction must do all its reads before its writes (as Firestore requires)"
            ) from exc
        return plain(snapshot.to_dict()) if snapshot.exists else None

    def create(self, collection: str, doc_id: str, data: dict[str, Any]) -> None:
        """Create the document at commit; ConflictError then if it exists."""
        self._txn.create(self._ref(collection, doc_id), check_document(data))

    def set(self, collection: str, doc_id: str, data: dict[str, Any]) -> None:
        """Create or overwrite the document at commit."""
        self._txn.set(self._ref(collection, doc_id), check_document(data))

    def update(self, collection: str, doc_id: str, changes: dict[str, Any]) -> None:
        """Merge top-level `changes` at commit; NotFoundError then if the document is missing."""
        ref = self._ref(collection, doc_id)
        if not check_document(changes, what="changes"):
            raise InvalidInputError(f"update {ref.path}: a transaction cannot apply empty changes")
        self._txn.update(ref, _field_paths(changes))

    def delete(self, collection: str, doc_id: str) -> None:
        """Delete the document at commit (no error when it does not exist)."""
        self._txn.delete(self._ref(collection, doc_id))

    def finish(self) -> None:
        """Refuse any further use of this handle."""
        self._finished = True

    def _ref(self, collection: str, doc_id: str) -> Any:
        if self._finished:
            raise InvalidInputError("this transaction has ended; use the handle only inside fn")
        return self._client.collection(check_collection(collection)).document(check_doc_id(doc_id))
