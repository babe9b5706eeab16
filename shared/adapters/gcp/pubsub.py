"""Google Cloud Pub/Sub adapter of the messages port (honours PUBSUB_EMULATOR_HOST).

Clients are created on first use. Filters are sent to Pub/Sub and also applied here on pull,
because the emulator accepts filters without applying them: a message the filter rejects is
acknowledged and dropped, exactly what Pub/Sub itself does with it.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from collections.abc import Sequence
from typing import Any

from google.api_core import exceptions as google_errors
from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # untyped, so absent from the namespace

from shared.adapters.gcp.errors import PUBSUB
from shared.errors import ConflictError, InvalidInputError, NotFoundError, TransientError
from shared.messaging.checks import check_messages
from shared.messaging.filters import MessageFilter, parse_filter
from shared.ports.messages import OutgoingMessage, ReceivedMessage

MIN_ACK_DEADLINE_S, MAX_ACK_DEADLINE_S = 10, 600
MIN_DELIVERY_ATTEMPTS, MAX_DELIVERY_ATTEMPTS = 5, 100
PUBLISH_TIMEOUT_S = 60.0
POLL_INTERVAL_S = 0.01  # synchronous pull may return empty early; retry until the timeout
# Pub/Sub names the dead-letter attributes its own way; expose them under the farm's names too.
DEAD_LETTER_ALIASES = {
    "CloudPubSubDeadLetterSourceSubscription": "farm_dead_letter_source_subscription",
    "CloudPubSubDeadLetterSourceDeliveryCount": "farm_dead_letter_delivery_attempts",
}


class PubSubMessageBus:
    """Topics and pull subscriptions on Google Cloud Pub/Sub (or its emulator)."""

    def __init__(self, project: str) -> None:
        self.project = project
        self._publisher: pubsub_v1.PublisherClient | None = None
        self._subscriber: pubsub_v1.SubscriberClient | None = None
        self._filters: dict[str, MessageFilter] = {}
        self._lock = threading.Lock()

    @property
    def publisher(self) -> pubsub_v1.PublisherClient:
        """The publisher client, created on first use."""
        with self._lock:
            if self._publisher is None:
                self._publisher = pubsub_v1.PublisherClient()
            return self._publisher

    @property
    def subscriber(self) -> pubsub_v1.SubscriberClient:
        """The subscriber client, created on first use."""
        with self._lock:
            if self._subscriber is None:
                self._subscriber = pubsub_v1.SubscriberClient()
            return self._subscriber

    def close(self) -> None:
        """Close the publisher's and subscriber's channels (they reopen on next use)."""
        with self._lock:
            publisher, subscriber, self._publisher, self._subscriber = self._publisher, self._subscriber, None, None
        if publisher is not None:
            publisher.transport.close()
        if subscriber is not None:
            subscriber.close()

    def topic_path(self, topic: str) -> str:
        """The full resource name of `topic`."""
        return f"projects/{self.project}/topics/{topic}"

    def subscription_path(self, subscription: str) -> str:
        """The full resource name of `subscription`."""
        return f"projects/{self.project}/subscriptions/{subscription}"

    def create_topic(self, topic: str) -> None:
        """Create a topic (no error when it exists)."""
        try:
            with PUBSUB.translated(f"topic {topic!r}"):
                self.publisher.create_topic(name=self.topic_path(topic))
        except ConflictError:
            pass

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
        """Create a pull subscription (see the port); deadlines and attempts are clamped."""
        parsed = parse_filter(filter)  # fail fast, with a position, before calling Pub/Sub
        request: dict[str, Any] = {
            "name": self.subscription_path(subscription),
            "topic": self.topic_path(topic),
            "ack_deadline_seconds": _clamp(
                math.ceil(ack_deadline_s), MIN_ACK_DEADLINE_S, MAX_ACK_DEADLINE_S
            ),
        }
        if filter:
            request["filter"] = filter
        if dead_letter_topic:
            request["dead_letter_policy"] = {
                "dead_letter_topic": self.topic_path(dead_letter_topic),
                "max_delivery_attempts": _clamp(
                    max_delivery_attempts, MIN_DELIVERY_ATTEMPTS, MAX_DELIVERY_ATTEMPTS
                ),
            }
        try:
            with PUBSUB.translated(f"subscription {subscription!r}"):
                self.subscriber.create_subscription(request=request)
        except ConflictError:
            existing = self._get_subscription(subscription)
            if existing.topic != request["topic"]:
                raise ConflictError(
                    f"subscription {subscription!r} exists for {existing.topic!r}, not {topic!r}"
                ) from None
            return
        self._filters[subscription] = parsed

    def delete_subscription(self, subscription: str) -> None:
        """Delete a subscription and its backlog (no error when missing)."""
        self._filters.pop(subscription, None)
        try:
            with PUBSUB.translated(f"subscription {subscription!r}"):
                self.subscriber.delete_subscription(
                    subscription=self.subscription_path(subscription)
                )
        except NotFoundError:
            pass

    def publish(self, topic: str, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Publish `messages` in order; wait for every one; return their ids."""
        check_messages(messages)  # all or nothing: the client would publish the valid ones
        path = self.topic_path(topic)
        with PUBSUB.translated(f"topic {topic!r}"):
            try:
                futures = [
                    self.publisher.publish(path, message.data, **dict(message.attributes))
                    for message in messages
                ]
            except TypeError as exc:  # the client checks bytes data and string attributes
                raise InvalidInputError(f"cannot publish to {topic!r}: {exc}") from exc
            return [future.result(timeout=PUBLISH_TIMEOUT_S) for future in futures]

    def pull(
        self, subscription: str, *, max_messages: int = 100, timeout_s: float = 0.0
    ) -> list[ReceivedMessage]:
        """Lease up to `max_messages`, waiting up to `timeout_s` for the first one."""
        if max_messages < 1:
            raise InvalidInputError(f"max_messages must be >= 1, got {max_messages}")
        accepts = self._filter(subscription)
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            received = self._pull_once(subscription, max_messages, remaining)
            wanted = [m for m in received if accepts(m.message.attributes)]
            rejected = [m.ack_id for m in received if not accepts(m.message.attributes)]
            if rejected:
                self.ack(subscription, rejected)
            if wanted:
                return [_to_received(m) for m in wanted]
            if time.monotonic() >= deadline:
                return []
            time.sleep(min(POLL_INTERVAL_S, max(0.0, deadline - time.monotonic())))

    def ack(self, subscription: str, ack_ids: Sequence[str]) -> None:
        """Acknowledge delivered messages; they are not delivered again."""
        if ack_ids:
            with PUBSUB.translated(f"subscription {subscription!r}"):
                self.subscriber.acknowledge(
                    request={
                        "subscription": self.subscription_path(subscription),
                        "ack_ids": list(ack_ids),
                    }
                )

    def nack(self, subscription: str, ack_ids: Sequence[str]) -> None:
        """Give leased messages back for immediate redelivery (ack deadline 0)."""
        if ack_ids:
            with PUBSUB.translated(f"subscription {subscription!r}"):
                self.subscriber.modify_ack_deadline(
                    request={
                        "subscription": self.subscription_path(subscription),
                        "ack_ids": list(ack_ids),
                        "ack_deadline_seconds": 0,
                    }
                )

    def _pull_once(self, subscription: str, max_messages: int, remaining_s: float) -> list[Any]:
        request = {
            "subscription": self.subscription_path(subscription),
            "max_messages": max_messages,
        }
        try:
            with PUBSUB.translated(f"subscription {subscription!r}"):
                if remaining_s <= 0:
                    with warnings.catch_warnings():  # the flag is deprecated but means "don't wait"
                        warnings.simplefilter("ignore", DeprecationWarning)
                        response = self.subscriber.pull(
                            request={**request, "return_immediately": True}, timeout=10.0
                        )
                else:
                    response = self.subscriber.pull(request=request, timeout=max(remaining_s, 0.05))
        except TransientError as exc:
            if isinstance(exc.__cause__, google_errors.DeadlineExceeded):
                return []  # nothing arrived within the caller's timeout
            raise
        return list(response.received_messages)

    def _filter(self, subscription: str) -> MessageFilter:
        cached = self._filters.get(subscription)
        if cached is None:
            cached = parse_filter(self._get_subscription(subscription).filter or None)
            self._filters[subscription] = cached
        return cached

    def _get_subscription(self, subscription: str) -> Any:
        with PUBSUB.translated(f"subscription {subscription!r}"):
            return self.subscriber.get_subscription(
                subscription=self.subscription_path(subscription)
            )


def _to_received(received: Any) -> ReceivedMessage:
    message = received.message
    attributes = dict(message.attributes)
    for theirs, ours in DEAD_LETTER_ALIASES.items():
        if theirs in attributes:
            attributes[ours] = attributes[theirs]
    return ReceivedMessage(
        message_id=message.message_id,
        data=bytes(message.data),
        attributes=attributes,
        publish_time=message.publish_time.timestamp(),
        ack_id=received.ack_id,
        # Pub/Sub counts attempts only on subscriptions with a dead-letter policy (else 0).
        delivery_attempt=max(1, received.delivery_attempt),
    )


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))
