"""Messaging helpers shared by the bus adapters: the Pub/Sub filter language, message checks."""

from shared.messaging.checks import check_messages
from shared.messaging.filters import MessageFilter, matches, parse_filter

__all__ = ["MessageFilter", "check_messages", "matches", "parse_filter"]
