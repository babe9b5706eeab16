"""FirestoreWatch: a collection listener (`on_snapshot`) turned into DocumentChanges.

The listener's own thread only converts snapshots and queues changes; a separate daemon thread
calls the handler, so a handler that fails (and is retried with backoff) never stalls the
listen stream.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from shared.adapters.gcp.firestore_values import plain, stamp_id
from shared.adapters.local.document_values import deliver_queued
from shared.errors import TransientError
from shared.ports.documents import ChangeKind, DocumentChange

log = logging.getLogger(__name__)


class FirestoreWatch:
    """Deliver every change of one collection after the listener's initial snapshot."""

    def __init__(
        self,
        collection_ref: Any,
        collection: str,
        on_change: Callable[[DocumentChange], None],
        *,
        ready_timeout_s: float = 30.0,
    ) -> None:
        self._collection = collection
        self._on_change = on_change
        self._queue: queue.Queue[DocumentChange] = queue.Queue()
        self._stopped = threading.Event()
        self._ready = threading.Event()
        self._last_seen: dict[str, dict[str, Any]] = {}
        self._thread = threading.Thread(
            target=self._deliver_loop, name=f"firestore-watch-{collection}", daemon=True
        )
        self._thread.start()
        self._listener = collection_ref.on_snapshot(self._on_snapshot)
        # "From now on" only holds once the initial snapshot is in: writes made before it
        # would be folded into that snapshot and never reported as changes.
        if not self._ready.wait(ready_timeout_s):
            self.close()
            raise TransientError(f"no initial snapshot of {collection} within {ready_timeout_s}s")

    def close(self) -> None:
        """Stop listening and delivering; waits for the thread unless called from `on_change`."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        try:
            self._listener.unsubscribe()
        except AttributeError:  # close() during __init__, before on_snapshot returned
            pass
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)

    def _on_snapshot(self, docs: list[Any], changes: list[Any], read_time: Any) -> None:
        try:
            if not self._ready.is_set():
                self._last_seen = {doc.id: plain(doc.to_dict()) for doc in docs}
                self._ready.set()
                return
            for change in changes:
                converted = self._convert(change, read_time)
                if converted is not None:
                    self._queue.put(converted)
        except Exception:
            log.exception("could not convert a snapshot of %s", self._collection)

    def _convert(self, change: Any, read_time: Any) -> DocumentChange | None:
        doc = change.document
        before = self._last_seen.get(doc.id)
        if change.type.name == "REMOVED":
            self._last_seen.pop(doc.id, None)
            after = None
            stamp = read_time
            change_id = f"{doc.id}@{stamp_id(stamp)}:deleted"
        else:
            after = plain(doc.to_dict())
            if after == before:
                return None  # a listen-stream reset replays unchanged documents
            self._last_seen[doc.id] = after
            stamp = doc.update_time or read_time
            change_id = f"{doc.id}@{stamp_id(stamp)}"
        kind: ChangeKind = "deleted" if after is None else "updated" if before is not None else "created"
        return DocumentChange(
            kind=kind,
            collection=self._collection,
            doc_id=doc.id,
            before=before,
            after=after,
            change_id=change_id,
            timestamp=stamp.timestamp(),
        )

    def _deliver_loop(self) -> None:
        deliver_queued(self._on_change, self._queue, self._stopped)
