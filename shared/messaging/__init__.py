"""Messaging helpers shared by the bus adapters (the Pub/Sub filter language)."""

from shared.messaging.filters import MessageFilter, matches, parse_filter

__all__ = ["MessageFilter", "matches", "parse_filter"]
