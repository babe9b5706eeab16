"""One contract for every MessageBus adapter: the embedded SQLite bus and Pub/Sub (emulator)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.errors import ConflictError, InvalidInputError, NotFoundError
from shared.ports.messages import MessageBus, OutgoingMessage, ReceivedMessage

PROJECT = "farm-test"


@pytest.fixture(params=["embedded", "memory", pytest.param("pubsub", marks=pytest.mark.emulator)])
def bus(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MessageBus]:
    if request.param == "embedded":
        from shared.adapters.local.messages import EmbeddedMessageBus

        embedded = EmbeddedMessageBus(tmp_path / "messages.sqlite3")
        yield embedded
        embedded.close()
    elif request.param == "memory":
        from shared.adapters.memory import MemoryMessageBus

        yield MemoryMessageBus()
    else:
        request.getfixturevalue("pubsub_emulator")
        from shared.adapters.gcp.pubsub import PubSubMessageBus

        yield PubSubMessageBus(PROJECT)


def is_pubsub(bus: MessageBus) -> bool:
    return type(bus).__name__ == "PubSubMessageBus"


def name(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:12]}"


def topic_with(bus: MessageBus, *subscriptions: str, **options: object) -> str:
    topic = name("topic")
    bus.create_topic(topic)
    for subscription in subscriptions:
        bus.create_subscription(subscription, topic, **options)  # type: ignore[arg-type]
    return topic


def drain(
    bus: MessageBus, subscription: str, count: int, timeout_s: float = 10.0
) -> list[ReceivedMessage]:
    """Pull and ack until `count` messages arrived (or the timeout passes)."""
    received: list[ReceivedMessage] = []
    deadline = time.monotonic() + timeout_s
    while len(received) < count and time.monotonic() < deadline:
        batch = bus.pull(subscription, max_messages=100, timeout_s=0.5)
        bus.ack(subscription, [m.ack_id for m in batch])
        received.extend(batch)
    return received


def messages(count: int, **attributes: str) -> list[OutgoingMessage]:
    return [OutgoingMessage(f"m{i}".encode(), dict(attributes)) for i in range(count)]


def test_every_subscription_of_a_topic_gets_every_message(bus):
    first, second = name("sub"), name("sub")
    topic = topic_with(bus, first, second)
    ids = bus.publish(topic, messages(30))
    assert len(set(ids)) == 30
    for subscription in (first, second):
        got = drain(bus, subscription, 30)
        assert sorted(m.data for m in got) == sorted(f"m{i}".encode() for i in range(30))
        assert {m.message_id for m in got} == set(ids)


def test_data_and_attributes_round_trip(bus):
    subscription = name("sub")
    topic = topic_with(bus, subscription)
    payload = bytes(range(256))
    before = time.time()
    (message_id,) = bus.publish(
        topic, [OutgoingMessage(payload, {"symbol": "BTC/USD", "type": "bar"})]
    )
    (got,) = drain(bus, subscription, 1)
    assert got.message_id == message_id
    assert got.data == payload
    assert dict(got.attributes) == {"symbol": "BTC/USD", "type": "bar"}
    assert got.delivery_attempt == 1
    assert before - 5 <= got.publish_time <= time.time() + 5


def test_a_subscription_gets_only_messages_published_after_it_was_created(bus):
    early, late = name("sub"), name("sub")
    topic = topic_with(bus, early)
    bus.publish(topic, [OutgoingMessage(b"before")])
    bus.create_subscription(late, topic)
    bus.publish(topic, [OutgoingMessage(b"after")])
    assert sorted(m.data for m in drain(bus, early, 2)) == [b"after", b"before"]
    assert [m.data for m in drain(bus, late, 1)] == [b"after"]
    assert bus.pull(late, timeout_s=0.2) == []


def test_filters_deliver_only_matching_messages(bus):
    apple, prefix, everything = name("sub"), name("sub"), name("sub")
    topic = topic_with(bus)
    bus.create_subscription(
        apple, topic, filter='attributes.symbol = "AAPL" AND attributes.type = "bar"'
    )
    bus.create_subscription(
        prefix, topic, filter='hasPrefix(attributes.symbol, "MS") OR attributes:news'
    )
    bus.create_subscription(everything, topic)
    bus.publish(
        topic,
        [
            OutgoingMessage(b"aapl-bar", {"symbol": "AAPL", "type": "bar"}),
            OutgoingMessage(b"aapl-trade", {"symbol": "AAPL", "type": "trade"}),
            OutgoingMessage(b"msft-bar", {"symbol": "MSFT", "type": "bar"}),
            OutgoingMessage(b"headline", {"news": "1"}),
        ],
    )
    assert [m.data for m in drain(bus, apple, 1)] == [b"aapl-bar"]
    assert sorted(m.data for m in drain(bus, prefix, 2)) == [b"headline", b"msft-bar"]
    assert len(drain(bus, everything, 4)) == 4
    assert bus.pull(apple, timeout_s=0.3) == []
    assert bus.pull(prefix, timeout_s=0.1) == []


def test_an_invalid_filter_is_rejected_with_its_position(bus):
    topic = topic_with(bus)
    with pytest.raises(InvalidInputError, match="position"):
        bus.create_subscription(
            name("sub"), topic, filter='attributes.a = "x" AND attributes:b OR attributes:c'
        )


def test_no_message_is_lost_across_many_batches(bus):
    subscription = name("sub")
    topic = topic_with(bus, subscription)
    sent = set()
    for batch in range(5):
        ids = bus.publish(topic, [OutgoingMessage(f"{batch}-{i}".encode()) for i in range(40)])
        sent.update(ids)
    got = drain(bus, subscription, 200)
    assert {m.message_id for m in got} == sent


def test_a_leased_message_is_not_delivered_again_while_its_lease_is_valid(bus):
    subscription = name("sub")
    topic = topic_with(bus, subscription, ack_deadline_s=10)
    bus.publish(topic, [OutgoingMessage(b"once")])
    assert [m.data for m in bus.pull(subscription, timeout_s=5)] == [b"once"]
    assert bus.pull(subscription, timeout_s=0.3) == []


def test_ack_stops_redelivery(bus):
    subscription = name("sub")
    topic = topic_with(bus, subscription)
    bus.publish(topic, [OutgoingMessage(b"done")])
    (got,) = bus.pull(subscription, timeout_s=5)
    bus.ack(subscription, [got.ack_id])
    bus.nack(subscription, [got.ack_id])  # a late nack cannot bring an acked message back
    assert bus.pull(subscription, timeout_s=0.5) == []


def test_an_expired_lease_is_redelivered_with_the_next_attempt(bus):
    if is_pubsub(bus):
        pytest.skip(
            "emulator's minimum ack deadline is 10 s; redelivery is covered by the nack test"
        )
    subscription = name("sub")
    topic = topic_with(bus, subscription, ack_deadline_s=0.2)
    bus.publish(topic, [OutgoingMessage(b"slow")])
    (first,) = bus.pull(subscription, timeout_s=1)
    (second,) = bus.pull(subscription, timeout_s=2)
    assert (second.message_id, second.delivery_attempt) == (first.message_id, 2)
    assert second.ack_id != first.ack_id


def test_nack_redelivers_at_once_with_the_next_attempt(bus):
    subscription, dead_letters = name("sub"), name("topic")
    bus.create_topic(dead_letters)
    # Pub/Sub counts delivery attempts only on subscriptions with a dead-letter policy.
    topic = topic_with(bus, subscription, ack_deadline_s=60, dead_letter_topic=dead_letters)
    bus.publish(topic, [OutgoingMessage(b"retry")])
    (first,) = bus.pull(subscription, timeout_s=5)
    bus.nack(subscription, [first.ack_id])
    started = time.monotonic()
    (second,) = bus.pull(subscription, timeout_s=5)
    assert time.monotonic() - started < 5
    assert (second.message_id, second.data) == (first.message_id, b"retry")
    assert (first.delivery_attempt, second.delivery_attempt) == (1, 2)


def test_a_message_goes_to_the_dead_letter_topic_after_max_attempts(bus):
    subscription, dead_letters, dead_subscription = name("sub"), name("topic"), name("sub")
    bus.create_topic(dead_letters)
    bus.create_subscription(dead_subscription, dead_letters)
    topic = topic_with(
        bus,
        subscription,
        dead_letter_topic=dead_letters,
        max_delivery_attempts=5,
        ack_deadline_s=60,
    )
    bus.publish(topic, [OutgoingMessage(b"poison", {"symbol": "AAPL"})])
    attempts = []
    for _ in range(5):
        (got,) = bus.pull(subscription, timeout_s=5)
        attempts.append(got.delivery_attempt)
        bus.nack(subscription, [got.ack_id])
    assert attempts == [1, 2, 3, 4, 5]
    assert bus.pull(subscription, timeout_s=0.5) == []
    (dead,) = drain(bus, dead_subscription, 1)
    assert dead.data == b"poison"
    assert dead.attributes["symbol"] == "AAPL"
    assert dead.attributes["farm_dead_letter_source_subscription"] == subscription
    assert dead.attributes["farm_dead_letter_delivery_attempts"] == "5"
    assert bus.pull(subscription, timeout_s=0.2) == []


def test_pull_waits_for_the_timeout_and_returns_nothing_when_empty(bus):
    subscription = name("sub")
    topic_with(bus, subscription)
    started = time.monotonic()
    assert bus.pull(subscription, timeout_s=0.3) == []
    assert 0.25 <= time.monotonic() - started < 3
    assert bus.pull(subscription) == []


def test_a_waiting_pull_returns_as_soon_as_a_message_arrives(bus):
    subscription = name("sub")
    topic = topic_with(bus, subscription)
    bus.pull(subscription)  # warm up clients and caches outside the timed part
    timer = threading.Timer(0.2, bus.publish, args=(topic, [OutgoingMessage(b"late")]))
    started = time.monotonic()
    timer.start()
    got = bus.pull(subscription, timeout_s=10)
    timer.join()
    assert [m.data for m in got] == [b"late"]
    assert time.monotonic() - started < 3


def test_unknown_topics_and_subscriptions_are_not_found(bus):
    with pytest.raises(NotFoundError):
        bus.publish(name("missing"), [OutgoingMessage(b"x")])
    with pytest.raises(NotFoundError):
        bus.pull(name("missing"))
    with pytest.raises(NotFoundError):
        bus.create_subscription(name("sub"), name("missing"))


def test_creating_twice_is_harmless_but_a_name_on_another_topic_conflicts(bus):
    subscription = name("sub")
    topic = topic_with(bus, subscription)
    bus.create_topic(topic)
    bus.create_subscription(subscription, topic)
    other = topic_with(bus)
    with pytest.raises(ConflictError):
        bus.create_subscription(subscription, other)


def test_deleting_a_subscription_drops_its_backlog_and_is_idempotent(bus):
    subscription, keeper = name("sub"), name("sub")
    topic = topic_with(bus, subscription, keeper)
    bus.publish(topic, messages(3))
    bus.delete_subscription(subscription)
    bus.delete_subscription(subscription)
    with pytest.raises(NotFoundError):
        bus.pull(subscription)
    assert len(drain(bus, keeper, 3)) == 3


# -- embedded engine specifics: storage stays bounded, stale leases cannot interfere ----------


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[MessageBus]:
    from shared.adapters.local.messages import EmbeddedMessageBus

    engine = EmbeddedMessageBus(tmp_path / "messages.sqlite3")
    yield engine
    engine.close()


def stored_rows(engine) -> tuple[int, int]:
    conn = engine._conn()
    return (
        conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0],
        conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0],
    )


def test_embedded_bus_stores_nothing_for_a_topic_without_subscriptions(embedded):
    topic = topic_with(embedded)
    assert len(embedded.publish(topic, messages(10))) == 10
    assert stored_rows(embedded) == (0, 0)


def test_embedded_bus_stores_nothing_a_filter_rejects(embedded):
    subscription = name("sub")
    topic = topic_with(embedded, subscription, filter='attributes.symbol = "AAPL"')
    embedded.publish(topic, messages(5, symbol="MSFT") + messages(1, symbol="AAPL"))
    assert stored_rows(embedded) == (1, 1)


def test_embedded_bus_deletes_a_message_once_every_subscription_acked_it(embedded):
    first, second = name("sub"), name("sub")
    topic = topic_with(embedded, first, second)
    embedded.publish(topic, messages(20))
    drain(embedded, first, 20)
    assert stored_rows(embedded) == (20, 20)
    drain(embedded, second, 20)
    assert stored_rows(embedded) == (0, 0)


def test_embedded_bus_drops_messages_only_a_deleted_subscription_needed(embedded):
    kept, dropped = name("sub"), name("sub")
    topic = topic_with(embedded, kept)
    embedded.publish(topic, messages(3))
    embedded.create_subscription(dropped, topic)
    embedded.publish(topic, messages(4))
    drain(embedded, kept, 7)
    embedded.delete_subscription(dropped)
    assert stored_rows(embedded) == (0, 0)


def test_embedded_bus_ignores_a_nack_from_an_expired_lease(embedded):
    subscription = name("sub")
    topic = topic_with(embedded, subscription, ack_deadline_s=0.1)
    embedded.publish(topic, [OutgoingMessage(b"x")])
    (stale,) = embedded.pull(subscription, timeout_s=1)
    (current,) = embedded.pull(subscription, timeout_s=1)
    embedded.nack(subscription, [stale.ack_id])
    assert embedded.pull(subscription) == []  # the current holder keeps its lease
    embedded.ack(subscription, [current.ack_id])
    assert stored_rows(embedded) == (0, 0)


def test_embedded_bus_rejects_a_malformed_ack_id(embedded):
    subscription = name("sub")
    topic_with(embedded, subscription)
    with pytest.raises(InvalidInputError, match="ack id"):
        embedded.ack(subscription, ["not-an-ack-id"])


def test_embedded_bus_survives_reopening_the_file(tmp_path):
    from shared.adapters.local.messages import EmbeddedMessageBus

    subscription = name("sub")
    first = EmbeddedMessageBus(tmp_path / "bus.sqlite3")
    topic = topic_with(first, subscription)
    ids = first.publish(topic, messages(3))
    first.close()
    reopened = EmbeddedMessageBus(tmp_path / "bus.sqlite3")
    assert {m.message_id for m in drain(reopened, subscription, 3)} == set(ids)
    assert reopened.publish(topic, messages(1))[0] not in ids
    reopened.close()


@pytest.mark.parametrize(
    "message",
    [
        OutgoingMessage("text, not bytes"),  # type: ignore[arg-type]
        OutgoingMessage(b"x", {"count": 3}),  # type: ignore[dict-item]
        OutgoingMessage(b""),
    ],
    ids=["str-data", "int-attribute", "empty"],
)
def test_a_malformed_message_is_rejected_before_anything_is_published(bus, message):
    subscription = name("sub")
    topic = topic_with(bus, subscription)
    with pytest.raises(InvalidInputError):
        bus.publish(topic, [OutgoingMessage(b"fine"), message])
    assert bus.pull(subscription, timeout_s=0.3) == []
