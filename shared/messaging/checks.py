"""Checks on outgoing messages that both bus adapters apply before publishing anything."""

from __future__ import annotations

from collections.abc import Sequence

from shared.errors import InvalidInputError
from shared.ports.messages import OutgoingMessage


def check_messages(messages: Sequence[OutgoingMessage]) -> None:
    """Reject what Pub/Sub rejects: non-bytes data, non-string attributes, empty messages."""
    for index, message in enumerate(messages):
        if not isinstance(message.data, bytes):
            kind = type(message.data).__name__
            raise InvalidInputError(f"message {index}: data must be bytes, got {kind}")
        attributes = message.attributes
        if not (message.data or attributes):
            raise InvalidInputError(f"message {index}: needs data or at least one attribute")
        if attributes and not all(
            type(key) is str and type(value) is str for key, value in attributes.items()
        ):
            raise InvalidInputError(f"message {index}: attribute keys and values must be strings")
