"""The SQLite change feed: a daemon thread tailing the `changes` table of one collection."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable

from shared.adapters.local.document_values import deliver
from shared.ports.documents import DocumentChange

log = logging.getLogger(__name__)

_BATCH = 256
_SELECT_CHANGES = (
    "SELECT seq, doc_id, kind, before, after, ts FROM changes "
    "WHERE collection = ? AND seq > ? ORDER BY seq LIMIT ?"
)


class SqliteWatch:
    """Deliver every change of `collection` committed after `start_seq`, in commit order."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        collection: str,
        on_change: Callable[[DocumentChange], None],
        *,
        start_seq: int,
        poll_interval_s: float,
    ) -> None:
        self._connect = connect
        self._collection = collection
        self._on_change = on_change
        self._cursor = start_seq
        self._poll_interval_s = poll_interval_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"sqlite-watch-{collection}", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop delivering; waits for the thread unless called from inside `on_change`."""
        self._stopped.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)

    @property
    def closed(self) -> bool:
        """Return True once `close` was called."""
        return self._stopped.is_set()

    def _run(self) -> None:
        conn = self._connect()
        try:
            seen_version: int | None = None
            while not self._stopped.is_set():
                try:
                    # data_version moves only when another connection commits: a poll that
                    # finds it unchanged costs one pragma, not a query.
                    version = conn.execute("PRAGMA data_version").fetchone()[0]
                    if version != seen_version:
                        full_batch = self._drain(conn)
                        seen_version = None if full_batch else version
                        if full_batch:
                            continue
                except sqlite3.Error:
                    log.exception("change feed of %s failed to read; retrying", self._collection)
                self._stopped.wait(self._poll_interval_s)
        finally:
            conn.close()

    def _drain(self, conn: sqlite3.Connection) -> bool:
        """Deliver one batch of pending changes; True when the batch was full (more may wait)."""
        rows = conn.execute(_SELECT_CHANGES, (self._collection, self._cursor, _BATCH)).fetchall()
        for seq, doc_id, kind, before, after, ts in rows:
            change = DocumentChange(
                kind=kind,
                collection=self._collection,
                doc_id=doc_id,
                before=json.loads(before) if before is not None else None,
                after=json.loads(after) if after is not None else None,
                change_id=str(seq),
                timestamp=ts,
            )
            if not deliver(self._on_change, change, self._stopped):
                return False
            self._cursor = seq
        return len(rows) == _BATCH
