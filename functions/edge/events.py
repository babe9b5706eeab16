"""The CloudEvent edge in one place: decode the event, run the handler, drop what no retry can fix.

Every event-triggered function is decorated with `@event_endpoint(decoder)`, so its body takes
the typed message (or the document change) and only does its work:

    @functions_framework.cloud_event
    @event_endpoint(pubsub_message(RunBacktest))
    def on_backtest_request(run: RunBacktest) -> None: ...

The platform delivers an event again whenever the function raises (deployed with `--retry`; the
local host nacks the message), so only errors worth a retry may escape. A permanent error — the
event or the state it names is wrong, and will be as wrong on every delivery — is logged and
acknowledged here, once for every function; anything else (a store or bus that is briefly
unavailable, a lost transaction race, a bug) is re-raised, and the handlers are idempotent.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Protocol, Self, TypeVar

from cloudevents.http import CloudEvent

from shared import errors
from shared.events import decode_document_event, decode_pubsub_event
from shared.ports.documents import DocumentChange

log = logging.getLogger(__name__)

T = TypeVar("T")
EventFunction = Callable[[CloudEvent], None]
Decoder = Callable[[CloudEvent], T]

# What a redelivery cannot change. A plain ConflictError (a concurrent write won, a transaction
# gave up) is not here: the next attempt usually succeeds. IllegalTransitionError is the
# conflict that is permanent: the state machine refuses the change whatever the timing.
PERMANENT_ERRORS: tuple[type[errors.FarmError], ...] = (
    errors.InvalidInputError,  # a malformed event, message or document
    errors.ValidationFailedError,  # well-formed, but breaks a rule
    errors.NotFoundError,  # it names an agent, run or session that does not exist
    errors.IllegalTransitionError,  # the lifecycle does not allow the change it asks for
)


class PubSubMessage(Protocol):
    """A platform message type (shared.schemas.messages): decodes its JSON bytes."""

    @classmethod
    def decode(cls, data: bytes) -> Self:
        """The message; InvalidInputError when malformed."""
        ...


M = TypeVar("M", bound=PubSubMessage)


def pubsub_message(message_type: type[M]) -> Decoder[M]:
    """Decode a Pub/Sub `messagePublished` event into a `message_type` message."""

    def decode(event: CloudEvent) -> M:
        return message_type.decode(decode_pubsub_event(event).data)

    decode.__qualname__ = f"pubsub_message({message_type.__name__})"
    return decode


def document_change(collection: str) -> Decoder[DocumentChange]:
    """Decode a Firestore document event on `collection` into a DocumentChange."""

    def decode(event: CloudEvent) -> DocumentChange:
        change = decode_document_event(event)
        if change.collection != collection:
            raise errors.InvalidInputError(
                f"not a {collection} document: {change.collection}/{change.doc_id}"
            )
        return change

    decode.__qualname__ = f"document_change({collection})"
    return decode


def event_endpoint(decode: Decoder[T]) -> Callable[[Callable[[T], None]], EventFunction]:
    """Wrap `handler(decoded) -> None` as a CloudEvent entry point.

    A permanent error (PERMANENT_ERRORS) from decoding or from the handler is logged with the
    event's id and acknowledged; every other exception propagates so the event is delivered again.
    """

    def decorate(handler: Callable[[T], None]) -> EventFunction:
        @functools.wraps(handler)
        def endpoint(event: CloudEvent) -> None:
            try:
                handler(decode(event))
            except PERMANENT_ERRORS as exc:
                log.error("%s: dropping event %s (%s): %s", handler.__name__, event["id"], event["type"], exc.message)

        return endpoint

    return decorate
