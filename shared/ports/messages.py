"""Messages port: Pub/Sub-shaped topics and pull subscriptions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to publish: bytes plus string attributes."""

    data: bytes
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReceivedMessage:
    """A delivered message; acknowledge it with `ack_id` before its deadline."""

    message_id: str
    data: bytes
    attributes: Mapping[str, str]
    publish_time: float  # epoch seconds
    ack_id: str
    delivery_attempt: int  # 1 on first delivery


class MessageBus(Protocol):
    """Topics, subscriptions with filters, at-least-once delivery and dead-lettering."""

    def create_topic(self, topic: str) -> None:
        """Create a topic (no error when it exists)."""
        ...

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
        """Create a subscription that gets every message published to `topic` from now on.

        `filter` uses Pub/Sub's filter syntax over attributes (`attributes.symbol = "AAPL"`,
        `hasPrefix(...)`, `attributes:key`, AND/OR/NOT); messages it rejects are never
        delivered. After `max_delivery_attempts` unacknowledged deliveries a message is
        forwarded to `dead_letter_topic` (when given) and removed from this subscription.
        No error when it exists with the same topic.
        """
        ...

    def delete_subscription(self, subscription: str) -> None:
        """Delete a subscription and its backlog (no error when missing)."""
        ...

    def publish(self, topic: str, messages: Sequence[OutgoingMessage]) -> list[str]:
        """Publish messages in order; return their ids. NotFoundError for an unknown topic."""
        ...

    def pull(
        self, subscription: str, *, max_messages: int = 100, timeout_s: float = 0.0
    ) -> list[ReceivedMessage]:
        """Lease up to `max_messages`, waiting up to `timeout_s` for the first one.

        A leased message not acknowledged within the ack deadline is delivered again.
        """
        ...

    def ack(self, subscription: str, ack_ids: Sequence[str]) -> None:
        """Acknowledge delivered messages; they are not delivered again."""
        ...

    def nack(self, subscription: str, ack_ids: Sequence[str]) -> None:
        """Give leased messages back for immediate redelivery (counts as an attempt)."""
        ...

    def close(self) -> None:
        """Release the bus's connections and clients (the application calls it once, at the end)."""
        ...

