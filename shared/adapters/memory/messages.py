"""MemoryMessageBus: the messages port in this process's memory, for fast service tests.

Pub/Sub's semantics as the embedded bus has them: a subscription gets what its topic receives
after it was created and its filter accepts; a pull leases messages for the ack deadline, after
which they come back with the next attempt; nack gives one back at once; after
`max_delivery_attempts` a message moves to the dead-letter topic. A condition variable wakes a
waiting pull as soon as something is published.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from shared.adapters.local.message_store import (
    DEAD_LETTER_ATTEMPTS,
    DEAD_LETTER_SOURCE,
    DEAD_LETTER_TOPIC,
)
from shared.errors import ConflictError, InvalidInputError, NotFoundError
from shared.messaging.checks import check_messages
from shared.messaging.filters import parse_filter
from shared.ports.messages import OutgoingMessage, ReceivedMessage


@dataclass
class _Delivery:
    message_id: int
    data: bytes
    attributes: Mapping[str, str]
    publish_time: float
    visible_at: float
    attempts: int = 0


@dataclass
class _Subscription:
    topic: str
    accepts: Callable[[Mapping[str, str]], bool]
    ack_deadline_s: float
    dead_letter_topic: str | None
    max_delivery_attempts: int
    backlog: dict[int, _Delivery] = field(default_factory=dict)  # by message id, in publish order


class MemoryMessageBus:
    """Topics and pull subscriptions in dicts, guarded by one condition variable."""

    def __init__(self) -> None:
        self._topics: set[str] = set()
        self._subscriptions: dict[str, _Subscription] = {}
        self._ids = itertools.count(1)
        self._changed = threading.Condition()

    def create_topic(self, topic: str) -> None:
        """Create a topic (no error when it exists)."""
        _check_name("topic", topic)
        with self._changed:
            self._topics.add(topic)

    def create_subscription(
        self, subscription: str, topic: str, *, filter: str | None = None, ack_deadline_s: float = 10.0,
        dead_letter_topic: str | None = None, max_delivery_attempts: int = 5,
    ) -> None:
        """Create a subscription receiving what `topic` gets from now on (see the port)."""
        _check_name("subscription", subscription)
        accepts = parse_filter(filter).matches
        if ack_deadline_s <= 0:
            raise InvalidInputError(f"ack_deadline_s must be positive, got {ack_deadline_s}")
        if max_delivery_attempts < 1:
            raise InvalidInputError(f"max_delivery_attempts must be >= 1, got {max_delivery_attempts}")
        with self._changed:
            existing = self._subscriptions.get(subscription)
            if existing is not None:
                if existing.topic != topic:
                    raise ConflictError(f"subscription {subscription!r} exists for topic {existing.topic!r},"
                                        f" not {topic!r}")
                return
            for name in (topic, dead_letter_topic):
                if name is not None and name not in self._topics:
                    raise NotFoundError(f"topic {name!r} does not exist")
            self._subscriptions[subscription] = _Subscription(topic, accepts, ack_deadline_s, dead_letter_topic,
                                                              max_delivery_attempts)

    def delete_subscription(self, subscription: str) -> None:
        """Delete a subscription and its backlog (no error when missing)."""
        with self._changed:
            self._subscriptions.pop(subscription, None)

    def publish(self, topic: str, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Publish `messages` together; return their ids (NotFoundError: no topic)."""
        check_messages(messages)
        with self._changed:
            ids = self._publish(topic, messages, time.time())
            self._changed.notify_all()
        return ids

    def pull(self, subscription: str, *, max_messages: int = 100, timeout_s: float = 0.0) -> list[ReceivedMessage]:
        """Lease up to `max_messages`, waiting up to `timeout_s` for the first one."""
        if max_messages < 1:
            raise InvalidInputError(f"max_messages must be >= 1, got {max_messages}")
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                received = self._lease(subscription, max_messages)
                remaining = deadline - time.monotonic()
                if received or remaining <= 0:
                    return received
                # Woken by a publish or a nack; a lease that expires meanwhile is seen by the timed wait.
                self._changed.wait(min(remaining, 0.05))

    def ack(self, subscription: str, ack_ids: Sequence[str]) -> None:
        """Acknowledge delivered messages; they are not delivered again."""
        keys = [_parse_ack_id(ack_id) for ack_id in ack_ids]
        with self._changed:
            sub = self._subscription(subscription)
            for message_id, _ in keys:  # any ack counts, even from an expired lease: it was processed
                sub.backlog.pop(message_id, None)

    def nack(self, subscription: str, ack_ids: Sequence[str]) -> None:
        """Give leased messages back for immediate redelivery (counts as an attempt)."""
        keys = [_parse_ack_id(ack_id) for ack_id in ack_ids]
        now = time.time()
        with self._changed:
            sub = self._subscription(subscription)
            for message_id, attempt in keys:  # only the current lease holder may give a message back
                delivery = sub.backlog.get(message_id)
                if delivery is not None and delivery.attempts == attempt and delivery.visible_at > now:
                    delivery.visible_at = now
            self._changed.notify_all()

    def close(self) -> None:
        """Nothing to release: the bus lives and dies with this object."""

    def _publish(self, topic: str, messages: Sequence[OutgoingMessage], now: float) -> list[str]:
        if topic not in self._topics:
            raise NotFoundError(f"topic {topic!r} does not exist")
        ids = [next(self._ids) for _ in messages]
        for sub in self._subscriptions.values():
            if sub.topic != topic:
                continue
            for message_id, message in zip(ids, messages, strict=True):
                if sub.accepts(message.attributes):
                    sub.backlog[message_id] = _Delivery(message_id, bytes(message.data), dict(message.attributes),
                                                        now, visible_at=now)
        return [str(message_id) for message_id in ids]

    def _lease(self, subscription: str, limit: int) -> list[ReceivedMessage]:
        sub = self._subscription(subscription)
        now = time.time()
        visible = sorted((d for d in sub.backlog.values() if d.visible_at <= now), key=lambda d: d.visible_at)
        if sub.dead_letter_topic is not None:
            spent = [d for d in visible if d.attempts >= sub.max_delivery_attempts]
            if spent:
                self._dead_letter(subscription, sub, spent, now)
                visible = [d for d in visible if d.attempts < sub.max_delivery_attempts]
        received = []
        for delivery in visible[:limit]:
            delivery.attempts += 1
            delivery.visible_at = now + sub.ack_deadline_s
            received.append(ReceivedMessage(
                message_id=str(delivery.message_id), data=delivery.data, attributes=dict(delivery.attributes),
                publish_time=delivery.publish_time, ack_id=f"{delivery.message_id}.{delivery.attempts}",
                delivery_attempt=delivery.attempts))
        return received

    def _dead_letter(self, subscription: str, sub: _Subscription, spent: list[_Delivery], now: float) -> None:
        assert sub.dead_letter_topic is not None
        forwarded = [OutgoingMessage(d.data, {**d.attributes, DEAD_LETTER_SOURCE: subscription,
                                              DEAD_LETTER_TOPIC: sub.topic, DEAD_LETTER_ATTEMPTS: str(d.attempts)})
                     for d in spent]
        for delivery in spent:
            sub.backlog.pop(delivery.message_id, None)
        if sub.dead_letter_topic in self._topics:  # a deleted topic drops them, as Pub/Sub does
            self._publish(sub.dead_letter_topic, forwarded, now)

    def _subscription(self, subscription: str) -> _Subscription:
        sub = self._subscriptions.get(subscription)
        if sub is None:
            raise NotFoundError(f"subscription {subscription!r} does not exist")
        return sub


def _parse_ack_id(ack_id: str) -> tuple[int, int]:
    try:
        message_id, attempt = ack_id.split(".")
        return int(message_id), int(attempt)
    except (ValueError, AttributeError):
        raise InvalidInputError(f"malformed ack id {ack_id!r}") from None


def _check_name(kind: str, name: str) -> None:
    if not isinstance(name, str) or not 0 < len(name) <= 255:
        raise InvalidInputError(f"{kind} name must be 1..255 characters, got {name!r}")
