"""Several processes sharing the embedded bus's SQLite file: nothing lost, no double lease."""

from __future__ import annotations

import json
import multiprocessing
import random
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from shared.adapters.local.messages import EmbeddedMessageBus
from shared.ports.messages import OutgoingMessage

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event

PUBLISHERS = 2
CONSUMERS = 2
PER_PUBLISHER = 3000
TOPIC = "market-data"
SUBSCRIPTIONS = ("strategy-a", "strategy-b")


def publish_all(db: str, publisher: int) -> None:
    """Publish this publisher's messages in batches of random size."""
    bus = EmbeddedMessageBus(Path(db))
    rng = random.Random(publisher)
    sent = 0
    while sent < PER_PUBLISHER:
        size = min(rng.randint(1, 40), PER_PUBLISHER - sent)
        bus.publish(
            TOPIC,
            [
                OutgoingMessage(f"{publisher}:{sent + i}".encode(), {"publisher": str(publisher)})
                for i in range(size)
            ],
        )
        sent += size


def consume(db: str, ready: Event, done: Event, out: str) -> None:
    """Pull from both subscriptions until publishers are done and none is left; log deliveries."""
    bus = EmbeddedMessageBus(Path(db))
    ready.set()
    deliveries: list[tuple[str, str]] = []
    idle_rounds = 0
    while idle_rounds < 3:
        got_any = False
        for subscription in SUBSCRIPTIONS:
            batch = bus.pull(subscription, max_messages=50, timeout_s=0.05)
            deliveries.extend((subscription, m.data.decode()) for m in batch)
            bus.ack(subscription, [m.ack_id for m in batch])
            got_any = got_any or bool(batch)
        idle_rounds = 0 if got_any or not done.is_set() else idle_rounds + 1
    Path(out).write_text(json.dumps(deliveries))


def test_two_publishers_and_two_consumers_lose_nothing_and_never_share_a_lease(tmp_path):
    db = tmp_path / "messages.sqlite3"
    bus = EmbeddedMessageBus(db)
    bus.create_topic(TOPIC)
    for subscription in SUBSCRIPTIONS:
        # A long deadline: any second delivery would mean two pullers held one lease.
        bus.create_subscription(subscription, TOPIC, ack_deadline_s=60)
    context = multiprocessing.get_context("spawn")
    done = context.Event()
    outputs = [tmp_path / f"consumer-{i}.json" for i in range(CONSUMERS)]
    ready = [context.Event() for _ in outputs]
    consumers = [
        context.Process(target=consume, args=(str(db), flag, done, str(out)))
        for flag, out in zip(ready, outputs, strict=True)
    ]
    publishers = [context.Process(target=publish_all, args=(str(db), p)) for p in range(PUBLISHERS)]
    started = time.monotonic()
    try:
        for process in consumers:
            process.start()
        # Publish only once both consumers poll, so they really compete for the same messages.
        assert all(flag.wait(timeout=60) for flag in ready)
        for process in publishers:
            process.start()
        for process in publishers:
            process.join(timeout=60)
            assert process.exitcode == 0
        done.set()
        for process in consumers:
            process.join(timeout=60)
            assert process.exitcode == 0
    finally:
        for process in consumers + publishers:
            if process.pid is not None and process.is_alive():
                process.kill()
    elapsed = time.monotonic() - started

    deliveries = Counter(
        (subscription, payload)
        for out in outputs
        for subscription, payload in json.loads(out.read_text())
    )
    expected = {f"{p}:{i}" for p in range(PUBLISHERS) for i in range(PER_PUBLISHER)}
    for subscription in SUBSCRIPTIONS:
        assert {payload for (sub, payload) in deliveries if sub == subscription} == expected
    assert max(deliveries.values()) == 1, "a message was leased to two consumers at once"
    both_consumed = [json.loads(out.read_text()) for out in outputs]
    assert all(both_consumed), "each consumer should have taken part"
    # Everything was acknowledged, so garbage collection leaves no message behind.
    conn = bus._conn()
    assert conn.execute("SELECT COUNT(*) FROM deliveries").fetchone() == (0,)
    assert conn.execute("SELECT COUNT(*) FROM messages").fetchone() == (0,)
    assert elapsed < 60


def hoard(db: str, leased: Event) -> None:
    """Lease messages, never ack them, and wait to be killed."""
    bus = EmbeddedMessageBus(Path(db))
    bus.pull("strategy-a", max_messages=100, timeout_s=10)
    leased.set()
    time.sleep(60)


def survive(db: str, done: Event, out: str) -> None:
    """Consume until told the other consumer is gone and two long pulls come back empty."""
    bus = EmbeddedMessageBus(Path(db))
    deliveries: list[tuple[str, int]] = []
    empty_after_done = 0
    while empty_after_done < 2:
        was_done = done.is_set()
        batch = bus.pull("strategy-a", max_messages=50, timeout_s=1.0)
        deliveries.extend((m.data.decode(), m.delivery_attempt) for m in batch)
        bus.ack("strategy-a", [m.ack_id for m in batch])
        empty_after_done = empty_after_done + 1 if was_done and not batch else 0
    Path(out).write_text(json.dumps(deliveries))


def test_messages_leased_by_a_killed_consumer_go_to_the_survivor_after_the_deadline(tmp_path):
    db = tmp_path / "messages.sqlite3"
    bus = EmbeddedMessageBus(db)
    bus.create_topic(TOPIC)
    bus.create_subscription("strategy-a", TOPIC, ack_deadline_s=0.5)
    bus.publish(TOPIC, [OutgoingMessage(f"m{i}".encode()) for i in range(1000)])
    context = multiprocessing.get_context("spawn")
    leased, done = context.Event(), context.Event()
    out = tmp_path / "survivor.json"
    hoarder = context.Process(target=hoard, args=(str(db), leased))
    survivor = context.Process(target=survive, args=(str(db), done, str(out)))
    try:
        hoarder.start()
        assert leased.wait(timeout=60)
        survivor.start()
        hoarder.kill()  # dies holding 100 leases
        hoarder.join(timeout=10)
        done.set()
        survivor.join(timeout=60)
        assert survivor.exitcode == 0
    finally:
        for process in (hoarder, survivor):
            if process.pid is not None and process.is_alive():
                process.kill()

    deliveries = json.loads(out.read_text())
    assert {payload for payload, _ in deliveries} == {f"m{i}" for i in range(1000)}
    # The 100 hoarded messages come back as second attempts (more only if the survivor
    # itself stalled past a deadline on this shared machine).
    assert len({payload for payload, attempt in deliveries if attempt >= 2}) >= 100
