"""Pub/Sub `messagePublished` CloudEvents (what Eventarc delivers for a topic trigger)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudevents.http import CloudEvent

from shared.errors import InvalidInputError
from shared.ports.messages import ReceivedMessage

MESSAGE_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
_SOURCE_PREFIX = "//pubsub.googleapis.com/"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PubSubEvent:
    """One Pub/Sub message as a function receives it."""

    message_id: str
    data: bytes
    attributes: Mapping[str, str] = field(default_factory=dict)
    publish_time: datetime = EPOCH
    delivery_attempt: int = 1
    topic: str = ""
    subscription: str = ""

    def json(self) -> Any:
        """The data parsed as JSON; InvalidInputError when it is not JSON."""
        try:
            return json.loads(self.data)
        except ValueError as exc:
            raise InvalidInputError(f"message {self.message_id} is not JSON: {exc}") from exc


def encode_pubsub_event(
    message: ReceivedMessage, *, project: str, topic: str, subscription: str
) -> CloudEvent:
    """Wrap a delivered message in the CloudEvent a Pub/Sub-triggered function receives."""
    published = _rfc3339(message.publish_time)
    body = {
        # Pub/Sub sends both spellings of these two fields.
        "message": {
            "data": base64.b64encode(message.data).decode("ascii"),
            "attributes": dict(message.attributes),
            "messageId": message.message_id,
            "message_id": message.message_id,
            "publishTime": published,
            "publish_time": published,
        },
        "subscription": f"projects/{project}/subscriptions/{subscription}",
        "deliveryAttempt": message.delivery_attempt,
    }
    attributes = {
        "specversion": "1.0",
        "id": message.message_id,
        "type": MESSAGE_PUBLISHED,
        "source": f"{_SOURCE_PREFIX}projects/{project}/topics/{topic}",
        "time": published,
        "datacontenttype": "application/json",
    }
    return CloudEvent(attributes, body)


def decode_pubsub_event(event: CloudEvent) -> PubSubEvent:
    """Read the message out of a `messagePublished` CloudEvent; InvalidInputError otherwise."""
    if event["type"] != MESSAGE_PUBLISHED:
        raise InvalidInputError(f"expected a {MESSAGE_PUBLISHED} event, got {event['type']!r}")
    body = event.data
    if isinstance(body, (bytes, str)):
        try:
            body = json.loads(body)
        except ValueError as exc:  # UnicodeDecodeError included: a redelivery is as malformed
            raise InvalidInputError(f"Pub/Sub event data is not JSON: {exc}") from exc
    if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
        raise InvalidInputError("Pub/Sub event data has no 'message' object")
    msg = body["message"]
    try:
        data = base64.b64decode(msg.get("data") or "", validate=True)
    except binascii.Error as exc:
        raise InvalidInputError(f"Pub/Sub message data is not base64: {exc}") from exc
    published = msg.get("publishTime") or msg.get("publish_time") or event.get("time")
    source = event["source"]
    return PubSubEvent(
        message_id=msg.get("messageId") or msg.get("message_id") or event["id"],
        data=data,
        attributes=dict(msg.get("attributes") or {}),
        publish_time=_parse_time(published) if published else EPOCH,
        delivery_attempt=int(body.get("deliveryAttempt") or 1),
        topic=source.rsplit("/topics/", 1)[-1] if "/topics/" in source else "",
        subscription=str(body.get("subscription") or "").rsplit("/", 1)[-1],
    )


def _rfc3339(epoch_s: float) -> str:
    moment = datetime.fromtimestamp(epoch_s, UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _parse_time(text: str) -> datetime:
    # Pub/Sub may send nanoseconds; Python parses at most microseconds.
    head, dot, frac = text.rstrip("Z").partition(".")
    frac = frac.split("+")[0][:6]
    return datetime.fromisoformat(f"{head}{dot}{frac}" if dot else head).replace(tzinfo=UTC)
