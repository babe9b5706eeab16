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

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from shared.adapters.local.message_store import (
    SCHEMA,
    collect_garbage,
    dead_letter,
    decode_attributes,
    publish_rows,
    topic_exists,
)
from shared.errors import ConflictError, InvalidInputError, NotFoundError, TransientError
from shared.messaging.checks import check_messages
from shared.messaging.filters import parse_filter
from shared.ports.messages import OutgoingMessage, ReceivedMessage

POLL_INTERVAL_S = 0.002  # wait loop of pull: a few ms from publish to a waiting puller
BUSY_TIMEOUT_MS = 30_000


class EmbeddedMessageBus:
    """Topics and pull subscriptions with filters, leases and dead-lettering on SQLite."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # executescript commits by itself, so the lock is taken inside the script.
        self._conn().executescript(f"BEGIN IMMEDIATE; {SCHEMA} COMMIT;")

    # -- connections -------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        """Return this thread's connection (a new one after fork: SQLite handles don't survive)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            # A handle inherited through fork is left open on purpose: closing it in the
            # child could disturb the parent's locks.
            self._local.inherited = conn
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one write transaction; lock timeouts become TransientError."""
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise TransientError(f"message bus at {self.path} is unavailable: {exc}") from exc

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
            raise InvalidInputError(
                f"max_delivery_attempts must be >= 1, got {max_delivery_attempts}"
            )
        with self._write() as conn:
            existing = conn.execute(
                "SELECT topic FROM subscriptions WHERE name = ?", (subscription,)
            ).fetchone()
            if existing:
                if existing[0] != topic:
                    raise ConflictError(
                        f"subscription {subscription!r} exists for topic {existing[0]!r},"
                        f" not {topic!r}"
                    )
                return
            for name in (topic, dead_letter_topic):
                if name is not None and not topic_exists(conn, name):
                    raise NotFoundError(f"topic {name!r} does not exist")
            conn.execute(
                "INSERT INTO subscriptions (name, topic, filter, ack_deadline_s, dead_letter_topic,"
                " max_delivery_attempts) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    subscription,
                    topic,
                    filter or None,
                    ack_deadline_s,
                    dead_letter_topic,
                    max_delivery_attempts,
                ),
            )

    def delete_subscription(self, subscription: str) -> None:
        """Delete a subscription and its backlog (no error when missing)."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT id FROM subscriptions WHERE name = ?", (subscription,)
            ).fetchone()
            if row is None:
                return
            msg_ids = [
                r[0]
                for r in conn.execute("SELECT msg_id FROM deliveries WHERE sub_id = ?", (row[0],))
            ]
            conn.execute("DELETE FROM deliveries WHERE sub_id = ?", (row[0],))
            conn.execute("DELETE FROM subscriptions WHERE id = ?", (row[0],))
            collect_garbage(conn, msg_ids)

    # -- data path ---------------------------------------------------------------------------

    def publish(self, topic: str, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Publish `messages` in one transaction; return their ids (NotFoundError: no topic)."""
        check_messages(messages)
        with self._write() as conn:
            return publish_rows(conn, topic, messages, time.time())

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
            collect_garbage(conn, [msg_id for msg_id, _ in keys])

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
        row = (
            self._conn()
            .execute("SELECT id FROM subscriptions WHERE name = ?", (subscription,))
            .fetchone()
        )
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
                    dead_letter(conn, subscription, sub_id, topic, dead_letter_topic, spent, now)
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
                attributes=decode_attributes(attributes),
                publish_time=publish_time,
                ack_id=f"{msg_id}.{attempts + 1}",
                delivery_attempt=attempts + 1,
            )
            for msg_id, attempts, data, attributes, publish_time in rows
        ]


def _parse_ack_id(ack_id: str) -> tuple[int, int]:
    try:
        msg_id, attempt = ack_id.split(".")
        return int(msg_id), int(attempt)
    except (ValueError, AttributeError):
        raise InvalidInputError(f"malformed ack id {ack_id!r}") from None


def _check_name(kind: str, name: str) -> None:
    if not isinstance(name, str) or not 0 < len(name) <= 255:
        raise InvalidInputError(f"{kind} name must be 1..255 characters, got {name!r}")
