"""Embedded message bus: Pub/Sub semantics on one SQLite file, shared by many processes.

Layout: a message row is stored once per publish and a delivery row per subscription whose
filter accepts it (filters run at publish time, as Pub/Sub's do). A delivery is visible when
`visible_at <= now`; pulling leases it by pushing `visible_at` one ack deadline ahead, so an
unacknowledged message reappears by itself. Ack deletes the delivery and, when no other
subscription still needs the message, the message too, so the file stays small.

Writers take the lock with BEGIN IMMEDIATE (WAL lets readers continue), so two processes
never lease the same delivery while its lease is valid.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from shared.errors import ConflictError, InvalidInputError, NotFoundError, TransientError
from shared.messaging.filters import parse_filter
from shared.ports.messages import OutgoingMessage, ReceivedMessage

POLL_INTERVAL_S = 0.002  # wait loop of pull: a few ms from publish to a waiting puller
BUSY_TIMEOUT_MS = 30_000
DEAD_LETTER_SOURCE = "farm_dead_letter_source_subscription"
DEAD_LETTER_ATTEMPTS = "farm_dead_letter_delivery_attempts"
DEAD_LETTER_TOPIC = "farm_dead_letter_source_topic"
_encode_json = json.JSONEncoder(separators=(",", ":")).encode  # reused: json.dumps rebuilds it
_raw_decode_json = json.JSONDecoder().raw_decode  # our own compact JSON: no whitespace to skip

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS subscriptions (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    topic TEXT NOT NULL,
    filter TEXT,
    ack_deadline_s REAL NOT NULL,
    dead_letter_topic TEXT,
    max_delivery_attempts INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    data BLOB NOT NULL,
    attributes TEXT,
    publish_time REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    msg_id INTEGER NOT NULL,
    sub_id INTEGER NOT NULL,
    visible_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (msg_id, sub_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (sub_id, visible_at);
INSERT OR IGNORE INTO counters VALUES ('message_id', 0);
"""


class EmbeddedMessageBus:
    """Topics and pull subscriptions with filters, leases and dead-lettering on SQLite."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # executescript commits by itself, so the lock is taken inside the script.
        self._conn().executescript(f"BEGIN IMMEDIATE; {_SCHEMA} COMMIT;")

    # -- connections -------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        """Return this thread's connection (a new one after fork: SQLite handles don't survive)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransientError(f"message bus is busy: {exc}") from exc
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.conn = None

    # -- administration ----------------------------------------------------------------------

    def create_topic(self, topic: str) -> None:
        """Create a topic (no error when it exists)."""
        _check_name("topic", topic)
        with self._write() as conn:
            conn.execute("INSERT OR IGNORE INTO topics VALUES (?)", (topic,))

    def create_subscription(
        self,
        subscription: str,
        topic: str,
        *,
        filter: str | None = None,
        ack_deadline_s: float = 10.0,
        dead_letter_topic: str | None = None,
        max_delivery_attempts: int = 5,
    ) -> None:
        """Create a subscription receiving what `topic` gets from now on (see the port)."""
        _check_name("subscription", subscription)
        parse_filter(filter)  # reject a bad filter now, not at the first publish
        if ack_deadline_s <= 0:
            raise InvalidInputError(f"ack_deadline_s must be positive, got {ack_deadline_s}")
        if max_delivery_attempts < 1:
            raise InvalidInputError(f"max_delivery_attempts must be >= 1, got {max_delivery_attempts}")
        with self._write() as conn:
            existing = conn.execute(
                "SELECT topic FROM subscriptions WHERE name = ?", (subscription,)
            ).fetchone()
            if existing:
                if existing[0] != topic:
                    raise ConflictError(
                        f"subscription {subscription!r} exists for topic {existing[0]!r}, not {topic!r}"
                    )
                return
            for name in (topic, dead_letter_topic):
                if name is not None and not _topic_exists(conn, name):
                    raise NotFoundError(f"topic {name!r} does not exist")
            conn.execute(
                "INSERT INTO subscriptions (name, topic, filter, ack_deadline_s, dead_letter_topic,"
                " max_delivery_attempts) VALUES (?, ?, ?, ?, ?, ?)",
                (subscription, topic, filter or None, ack_deadline_s, dead_letter_topic,
                 max_delivery_attempts),
            )

    def delete_subscription(self, subscription: str) -> None:
        """Delete a subscription and its backlog (no error when missing)."""
        with self._write() as conn:
            row = conn.execute("SELECT id FROM subscriptions WHERE name = ?", (subscription,)).fetchone()
            if row is None:
                return
            msg_ids = [r[0] for r in conn.execute(
                "SELECT msg_id FROM deliveries WHERE sub_id = ?", (row[0],))]
            conn.execute("DELETE FROM deliveries WHERE sub_id = ?", (row[0],))
            conn.execute("DELETE FROM subscriptions WHERE id = ?", (row[0],))
            _collect_garbage(conn, msg_ids)

    # -- data path ---------------------------------------------------------------------------

    def publish(self, topic: str, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Publish `messages` in one transaction; return their ids (NotFoundError: no topic)."""
        with self._write() as conn:
            return _publish(conn, topic, messages, time.time())

    def pull(
        self, subscription: str, *, max_messages: int = 100, timeout_s: float = 0.0
    ) -> list[ReceivedMessage]:
        """Lease up to `max_messages`, waiting up to `timeout_s` for the first one."""
        if max_messages < 1:
            raise InvalidInputError(f"max_messages must be >= 1, got {max_messages}")
        sub_id = self._subscription_id(subscription)
        deadline = time.monotonic() + timeout_s
        conn = self._conn()
        while True:
            # A lock-free read first, so idle pullers never contend for the write lock.
            if conn.execute(
                "SELECT 1 FROM deliveries WHERE sub_id = ? AND visible_at <= ? LIMIT 1",
                (sub_id, time.time()),
            ).fetchone():
                received = self._lease(subscription, sub_id, max_messages)
                if received:
                    return received
            if time.monotonic() >= deadline:
                return []
            time.sleep(POLL_INTERVAL_S)

    def ack(self, subscription: str, ack_ids: Sequence[str]) -> None:
        """Acknowledge delivered messages; they are not delivered again."""
        sub_id = self._subscription_id(subscription)
        keys = [_parse_ack_id(ack_id) for ack_id in ack_ids]
        if not keys:
            return
        with self._write() as conn:
            # Any ack for the message counts, even from an expired lease: it was processed.
            conn.executemany(
                "DELETE FROM deliveries WHERE msg_id = ? AND sub_id = ?",
                [(msg_id, sub_id) for msg_id, _ in keys],
            )
            _collect_garbage(conn, [msg_id for msg_id, _ in keys])

    def nack(self, subscription: str, ack_ids: Sequence[str]) -> None:
        """Give leased messages back for immediate redelivery (counts as an attempt)."""
        sub_id = self._subscription_id(subscription)
        keys = [_parse_ack_id(ack_id) for ack_id in ack_ids]
        if not keys:
            return
        now = time.time()
        with self._write() as conn:
            # Only the current lease holder may give a message back.
            conn.executemany(
                "UPDATE deliveries SET visible_at = ? WHERE msg_id = ? AND sub_id = ?"
                " AND attempts = ? AND visible_at > ?",
                [(now, msg_id, sub_id, attempt, now) for msg_id, attempt in keys],
            )

    # -- internals ---------------------------------------------------------------------------

    def _subscription_id(self, subscription: str) -> int:
        row = self._conn().execute(
            "SELECT id FROM subscriptions WHERE name = ?", (subscription,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"subscription {subscription!r} does not exist")
        return int(row[0])

    def _lease(self, subscription: str, sub_id: int, limit: int) -> list[ReceivedMessage]:
        with self._write() as conn:
            settings = conn.execute(
                "SELECT ack_deadline_s, dead_letter_topic, max_delivery_attempts, topic"
                " FROM subscriptions WHERE id = ?",
                (sub_id,),
            ).fetchone()
            if settings is None:
                raise NotFoundError(f"subscription {subscription!r} does not exist")
            deadline_s, dead_letter_topic, max_attempts, topic = settings
            now = time.time()
            rows = conn.execute(
                "SELECT d.msg_id, d.attempts, m.data, m.attributes, m.publish_time"
                " FROM deliveries d JOIN messages m ON m.id = d.msg_id"
                " WHERE d.sub_id = ? AND d.visible_at <= ? ORDER BY d.visible_at LIMIT ?",
                (sub_id, now, limit),
            ).fetchall()
            if dead_letter_topic is not None:
                spent = [row for row in rows if row[1] >= max_attempts]
                if spent:
                    _dead_letter(conn, subscription, sub_id, topic, dead_letter_topic, spent, now)
                    rows = [row for row in rows if row[1] < max_attempts]
            conn.executemany(
                "UPDATE deliveries SET visible_at = ?, attempts = attempts + 1"
                " WHERE msg_id = ? AND sub_id = ?",
                [(now + deadline_s, row[0], sub_id) for row in rows],
            )
        return [
            ReceivedMessage(
                message_id=str(msg_id),
                data=bytes(data),
                attributes=_raw_decode_json(attributes)[0] if attributes else {},
                publish_time=publish_time,
                ack_id=f"{msg_id}.{attempts + 1}",
                delivery_attempt=attempts + 1,
            )
            for msg_id, attempts, data, attributes, publish_time in rows
        ]


def _publish(
    conn: sqlite3.Connection, topic: str, messages: Sequence[OutgoingMessage], now: float
) -> list[str]:
    """Store `messages` for every subscription of `topic` whose filter accepts them."""
    if not _topic_exists(conn, topic):
        raise NotFoundError(f"topic {topic!r} does not exist")
    subscriptions = [
        (sub_id, parse_filter(text).matches if text else None)
        for sub_id, text in conn.execute(
            "SELECT id, filter FROM subscriptions WHERE topic = ?", (topic,)
        )
    ]
    (first,) = conn.execute("SELECT value + 1 FROM counters WHERE name = 'message_id'").fetchone()
    ids = range(first, first + len(messages))
    conn.execute("UPDATE counters SET value = ? WHERE name = 'message_id'", (first + len(messages) - 1,))
    if not subscriptions:
        return [str(i) for i in ids]  # Pub/Sub keeps nothing for a topic without subscribers
    stored: list[tuple[int, bytes, str | None, float]] = []
    deliveries: list[tuple[int, int, float]] = []
    if all(accepts is None for _, accepts in subscriptions):
        # Hot path for market data: every subscription takes every message.
        stored = [(i, m.data, _encode(m.attributes), now) for i, m in zip(ids, messages)]
        deliveries = [(i, sub_id, now) for sub_id, _ in subscriptions for i in ids]
    else:
        for msg_id, message in zip(ids, messages):
            attributes = message.attributes
            wanted = [s for s, accepts in subscriptions if accepts is None or accepts(attributes)]
            if wanted:
                stored.append((msg_id, message.data, _encode(attributes), now))
                deliveries.extend((msg_id, sub_id, now) for sub_id in wanted)
    conn.executemany("INSERT INTO messages VALUES (?, ?, ?, ?)", stored)
    conn.executemany("INSERT INTO deliveries (msg_id, sub_id, visible_at) VALUES (?, ?, ?)", deliveries)
    return [str(i) for i in ids]


def _dead_letter(
    conn: sqlite3.Connection,
    subscription: str,
    sub_id: int,
    topic: str,
    dead_letter_topic: str,
    rows: list[tuple],
    now: float,
) -> None:
    """Forward spent deliveries to the dead-letter topic and drop them from the subscription."""
    forwarded = [
        OutgoingMessage(
            data=bytes(data),
            attributes={
                **(json.loads(attributes) if attributes else {}),
                DEAD_LETTER_SOURCE: subscription,
                DEAD_LETTER_TOPIC: topic,
                DEAD_LETTER_ATTEMPTS: str(attempts),
            },
        )
        for _, attempts, data, attributes, _ in rows
    ]
    if _topic_exists(conn, dead_letter_topic):  # a deleted topic drops them, as Pub/Sub does
        _publish(conn, dead_letter_topic, forwarded, now)
    msg_ids = [row[0] for row in rows]
    conn.executemany(
        "DELETE FROM deliveries WHERE msg_id = ? AND sub_id = ?", [(m, sub_id) for m in msg_ids]
    )
    _collect_garbage(conn, msg_ids)


def _collect_garbage(conn: sqlite3.Connection, msg_ids: Sequence[int]) -> None:
    """Delete messages among `msg_ids` that no subscription still has to deliver."""
    conn.executemany(
        "DELETE FROM messages WHERE id = ?"
        " AND NOT EXISTS (SELECT 1 FROM deliveries WHERE msg_id = ?)",
        [(m, m) for m in msg_ids],
    )


def _topic_exists(conn: sqlite3.Connection, topic: str) -> bool:
    return conn.execute("SELECT 1 FROM topics WHERE name = ?", (topic,)).fetchone() is not None


def _encode(attributes: object) -> str | None:
    return _encode_json(attributes) if attributes else None


def _parse_ack_id(ack_id: str) -> tuple[int, int]:
    try:
        msg_id, attempt = ack_id.split(".")
        return int(msg_id), int(attempt)
    except (ValueError, AttributeError):
        raise InvalidInputError(f"malformed ack id {ack_id!r}") from None


def _check_name(kind: str, name: str) -> None:
    if not isinstance(name, str) or not 0 < len(name) <= 255:
        raise InvalidInputError(f"{kind} name must be 1..255 characters, got {name!r}")
