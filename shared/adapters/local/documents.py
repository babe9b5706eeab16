"""SqliteDocumentStore: the documents port on one SQLite file, safe across threads and processes.

Documents are JSON text in one table keyed by (collection, doc_id). Every write appends a row
to `changes` in the same SQLite transaction, and the row's sequence number becomes the
document's version: versions never repeat, so optimistic transactions compare them at commit
(under BEGIN IMMEDIATE, which serialises writers across processes) and the change feed tails
the same table. WAL mode lets readers and the feed run while a writer commits.
"""

from __future__ import annotations

import json
import logging
import queue
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from shared.adapters.local.document_feed import SqliteWatch
from shared.adapters.local.document_queries import build_query
from shared.adapters.local.document_transaction import Write, WriteKind, run_transaction
from shared.adapters.local.document_values import check_collection, check_doc_id, check_document
from shared.adapters.local.document_writes import apply_write, init_schema
from shared.errors import TransientError
from shared.ports.documents import DocumentChange, Filter, Transaction

log = logging.getLogger(__name__)
T = TypeVar("T")


class SqliteDocumentStore:
    """Collections of JSON documents in the SQLite file at `path`."""

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_s: float = 30.0,
        poll_interval_s: float = 0.025,
        change_retention_s: float = 24 * 3600.0,
        prune_every_s: float = 60.0,
    ) -> None:
        self._path = Path(path)
        self._busy_timeout_s = busy_timeout_s
        self._poll_interval_s = poll_interval_s
        self._change_retention_s = change_retention_s
        self._prune_every_s = prune_every_s
        self._pool: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._schema_ready = False
        self._last_prune = 0.0
        self._watches: list[SqliteWatch] = []
        self._closed = False

    @property
    def path(self) -> Path:
        """Return the SQLite file this store lives in."""
        return self._path

    # --- plain reads and writes -------------------------------------------------------------

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        """Return the document, or None when it does not exist."""
        found = self._read(check_collection(collection), check_doc_id(doc_id))
        return found[0] if found else None

    def create(self, collection: str, doc_id: str, data: dict[str, Any]) -> None:
        """Create a document; ConflictError when it already exists."""
        self._write_one("create", collection, doc_id, data)

    def set(self, collection: str, doc_id: str, data: dict[str, Any]) -> None:
        """Create or overwrite a document."""
        self._write_one("set", collection, doc_id, data)

    def update(self, collection: str, doc_id: str, changes: dict[str, Any]) -> None:
        """Merge top-level `changes` into an existing document; NotFoundError when missing."""
        self._write_one("update", collection, doc_id, changes)

    def delete(self, collection: str, doc_id: str) -> None:
        """Delete a document (no error when it does not exist)."""
        key = (check_collection(collection), check_doc_id(doc_id))
        self._commit([Write("delete", *key, None)], {})

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
        sql, params = build_query(
            check_collection(collection), where,
            order_by=order_by, descending=descending, limit=limit, offset=offset,
        )
        with self._connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [(doc_id, json.loads(data)) for doc_id, data in rows]

    # --- transactions -----------------------------------------------------------------------

    def transaction(self, fn: Callable[[Transaction], T], *, max_attempts: int = 5) -> T:
        """Run `fn` in a transaction, retrying on conflict; ConflictError after max_attempts."""

        def back_off(attempt: int) -> None:
            log.debug("transaction conflict on attempt %d of %d", attempt, max_attempts)
            # Jitter so that processes that collided do not collide again in lockstep.
            time.sleep(random.uniform(0, 0.002 * attempt))

        return run_transaction(fn, self._read, self._commit, max_attempts=max_attempts, on_conflict=back_off)

    # --- change feed ------------------------------------------------------------------------

    def watch(self, collection: str, on_change: Callable[[DocumentChange], None]) -> SqliteWatch:
        """Call `on_change` for every change in `collection` from now on, until closed."""
        check_collection(collection)
        with self._connection() as conn:
            start_seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0]
        watch = SqliteWatch(
            self._open, collection, on_change,
            start_seq=start_seq, poll_interval_s=self._poll_interval_s,
        )
        with self._lock:
            self._watches = [w for w in self._watches if not w.closed] + [watch]
        return watch

    def close(self) -> None:
        """Stop this store's watches and close its connections."""
        with self._lock:
            self._closed = True
            watches, self._watches = self._watches, []
        for watch in watches:
            watch.close()
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                return

    # --- internals --------------------------------------------------------------------------

    def _write_one(
        self, kind: WriteKind, collection: str, doc_id: str, data: dict[str, Any]
    ) -> None:
        key = (check_collection(collection), check_doc_id(doc_id))
        write = Write(kind, *key, check_document(data))
        self._commit([write], {})

    def _read(self, collection: str, doc_id: str) -> tuple[dict[str, Any], int] | None:
        """Return `(document, version)` or None."""
        with self._connection() as conn:
            row = conn.execute(
                "SELECT data, version FROM documents WHERE collection = ? AND doc_id = ?",
                (collection, doc_id),
            ).fetchone()
        return (json.loads(row[0]), row[1]) if row else None

    def _commit(self, writes: list[Write], reads: dict[tuple[str, str], int | None]) -> bool:
        """Apply `writes` atomically if every read version still holds; False on a conflict."""
        if not writes and not reads:
            return True
        with self._connection() as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise TransientError(f"document store is busy: {exc}") from exc
            try:
                for (collection, doc_id), version in reads.items():
                    row = conn.execute(
                        "SELECT version FROM documents WHERE collection = ? AND doc_id = ?",
                        (collection, doc_id),
                    ).fetchone()
                    if (row[0] if row else None) != version:
                        conn.execute("ROLLBACK")
                        return False
                now = time.time()
                for write in writes:
                    apply_write(conn, write, now)
                self._maybe_prune(conn, now)
                conn.execute("COMMIT")
                return True
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _maybe_prune(self, conn: sqlite3.Connection, now: float) -> None:
        if now - self._last_prune < self._prune_every_s:
            return
        self._last_prune = now
        conn.execute("DELETE FROM changes WHERE ts < ?", (now - self._change_retention_s,))

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """Lend a pooled connection to one operation (connections are not shared concurrently)."""
        if self._closed:
            raise RuntimeError("document store is closed")
        try:
            conn = self._pool.get_nowait()
        except queue.Empty:
            conn = self._open()
        try:
            yield conn
        except sqlite3.OperationalError as exc:
            raise TransientError(f"document store failed: {exc}") from exc
        finally:
            if self._closed:
                conn.close()  # the store closed while this operation ran
            else:
                self._pool.put(conn)

    def _open(self) -> sqlite3.Connection:
        """Open a connection in autocommit mode, with WAL, a busy timeout and the schema."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self._path, timeout=self._busy_timeout_s, isolation_level=None,
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_s * 1000)}")
        with self._lock:
            if not self._schema_ready:
                init_schema(conn)
                self._schema_ready = True
        # NORMAL is crash-safe in WAL mode; it only risks the last commits on power loss.
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn
