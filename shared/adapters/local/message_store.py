"""SQLite storage of the embedded message bus: schema, publishing, dead-lettering, clean-up.

Functions here run inside a write transaction opened by `EmbeddedMessageBus`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence

import orjson

from shared.errors import NotFoundError
from shared.messaging.filters import parse_filter
from shared.ports.messages import OutgoingMessage

DEAD_LETTER_SOURCE = "farm_dead_letter_source_subscription"
DEAD_LETTER_ATTEMPTS = "farm_dead_letter_delivery_attempts"
DEAD_LETTER_TOPIC = "farm_dead_letter_source_topic"
_encode_json = json.JSONEncoder(separators=(",", ":")).encode  # reused: json.dumps rebuilds it
_raw_decode_json = json.JSONDecoder().raw_decode  # our own compact JSON: no whitespace to skip

SCHEMA = """
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


def publish_rows(
    conn: sqlite3.Connection, topic: str, messages: Sequence[OutgoingMessage], now: float
) -> list[str]:
    """Store `messages` for every subscription of `topic` whose filter accepts them."""
    if not topic_exists(conn, topic):
        raise NotFoundError(f"topic {topic!r} does not exist")
    subscriptions = [
        (sub_id, parse_filter(text).matches if text else None)
        for sub_id, text in conn.execute(
            "SELECT id, filter FROM subscriptions WHERE topic = ?", (topic,)
        )
    ]
    (first,) = conn.execute("SELECT value + 1 FROM counters WHERE name = 'message_id'").fetchone()
    ids = range(first, first + len(messages))
    conn.execute(
        "UPDATE counters SET value = ? WHERE name = 'message_id'", (first + len(messages) - 1,)
    )
    if not subscriptions:
        return [str(i) for i in ids]  # Pub/Sub keeps nothing for a topic without subscribers
    stored: list[tuple[int, bytes, str | None, float]] = []
    deliveries: list[tuple[int, int, float]] = []
    if all(accepts is None for _, accepts in subscriptions):
        # Hot path for market data: every subscription takes every message.
        stored = [(i, m.data, encode_attributes(m.attributes), now) for i, m in zip(ids, messages, strict=True)]
        deliveries = [(i, sub_id, now) for sub_id, _ in subscriptions for i in ids]
    else:
        for msg_id, message in zip(ids, messages, strict=True):
            attributes = message.attributes
            wanted = [s for s, accepts in subscriptions if accepts is None or accepts(attributes)]
            if wanted:
                stored.append((msg_id, message.data, encode_attributes(attributes), now))
                deliveries.extend((msg_id, sub_id, now) for sub_id in wanted)
    conn.executemany("INSERT INTO messages VALUES (?, ?, ?, ?)", stored)
    conn.executemany(
        "INSERT INTO deliveries (msg_id, sub_id, visible_at) VALUES (?, ?, ?)", deliveries
    )
    return [str(i) for i in ids]


def dead_letter(
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
                **decode_attributes(attributes),
                DEAD_LETTER_SOURCE: subscription,
                DEAD_LETTER_TOPIC: topic,
                DEAD_LETTER_ATTEMPTS: str(attempts),
            },
        )
        for _, attempts, data, attributes, _ in rows
    ]
    if topic_exists(conn, dead_letter_topic):  # a deleted topic drops them, as Pub/Sub does
        publish_rows(conn, dead_letter_topic, forwarded, now)
    msg_ids = [row[0] for row in rows]
    conn.executemany(
        "DELETE FROM deliveries WHERE msg_id = ? AND sub_id = ?", [(m, sub_id) for m in msg_ids]
    )
    collect_garbage(conn, msg_ids)


def collect_garbage(conn: sqlite3.Connection, msg_ids: Sequence[int]) -> None:
    """Delete messages among `msg_ids` that no subscription still has to deliver."""
    conn.executemany(
        "DELETE FROM messages WHERE id = ?"
        " AND NOT EXISTS (SELECT 1 FROM deliveries WHERE msg_id = ?)",
        [(m, m) for m in msg_ids],
    )


def topic_exists(conn: sqlite3.Connection, topic: str) -> bool:
    """Tell whether `topic` was created."""
    return conn.execute("SELECT 1 FROM topics WHERE name = ?", (topic,)).fetchone() is not None


def encode_attributes(attributes: Mapping[str, str]) -> str | None:
    """Encode attributes compactly (None when there are none)."""
    if not attributes:
        return None
    try:
        return orjson.dumps(attributes).decode()  # a third of publish CPU was the json module
    except TypeError:  # orjson's error type: a mapping that is not a dict, a lone surrogate
        return _encode_json(attributes)


def decode_attributes(text: str | None) -> dict[str, str]:
    """Decode attributes stored by `encode_attributes`."""
    return _raw_decode_json(text)[0] if text else {}
