"""Schema and single-write application for SqliteDocumentStore.

Every write appends a row to `changes` in the caller's open transaction; that row's sequence
number becomes the document's version, so versions never repeat, even across delete and
re-create, and the change feed and optimistic transactions read the same truth.
"""

from __future__ import annotations

import json
import sqlite3
import time

from shared.adapters.local.document_transaction import Write
from shared.errors import ConflictError, NotFoundError, TransientError

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    data TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (collection, doc_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    collection TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    before TEXT,
    after TEXT,
    ts REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS changes_by_collection ON changes (collection, seq);
CREATE INDEX IF NOT EXISTS changes_by_time ON changes (ts);
"""


def init_schema(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL and create the tables (idempotent, safe across processes)."""
    for attempt in range(50):
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(SCHEMA)
            return
        except sqlite3.OperationalError as exc:
            # Switching to WAL does not wait on the busy handler when another process holds
            # the file during its own first open; back off and try again.
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            time.sleep(0.01 * (attempt + 1))
    raise TransientError("could not initialise document store: database stayed locked")


def apply_write(conn: sqlite3.Connection, write: Write, now: float) -> None:
    """Apply one write inside the open transaction and record it in `changes`."""
    row = conn.execute(
        "SELECT data FROM documents WHERE collection = ? AND doc_id = ?",
        (write.collection, write.doc_id),
    ).fetchone()
    before = json.loads(row[0]) if row else None
    where = f"{write.collection}/{write.doc_id}"
    if write.kind == "create" and before is not None:
        raise ConflictError(f"document {where} already exists")
    if write.kind == "update" and before is None:
        raise NotFoundError(f"document {where} does not exist")
    if write.kind == "delete" or (write.kind == "update" and not write.data):
        # Deleting a missing document and an empty update change nothing, so record nothing.
        if before is None or write.kind == "update":
            return
        after = None
    elif write.kind == "update":
        assert before is not None and write.data is not None
        after = {**before, **write.data}
    else:
        after = write.data
    # Sorted keys make the stored text canonical, so map equality ignores key order.
    after_json = json.dumps(after, sort_keys=True) if after is not None else None
    seq = conn.execute(
        "INSERT INTO changes (collection, doc_id, kind, before, after, ts) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (write.collection, write.doc_id,
         "deleted" if after is None else "updated" if before is not None else "created",
         row[0] if row else None, after_json, now),
    ).lastrowid
    if after_json is None:
        conn.execute(
            "DELETE FROM documents WHERE collection = ? AND doc_id = ?",
            (write.collection, write.doc_id),
        )
    else:
        conn.execute(
            "INSERT INTO documents (collection, doc_id, data, version) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (collection, doc_id) DO UPDATE SET data = excluded.data, "
            "version = excluded.version",
            (write.collection, write.doc_id, after_json, seq),
        )
