"""Timestamps as the platform stores them: ISO-8601 UTC strings, which sort as text."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Format an aware datetime as ISO-8601 UTC with microseconds and a Z suffix."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the platform stores UTC only")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_iso() -> str:
    """The current time as the platform stores it."""
    return iso(utc_now())


def parse_iso(text: str) -> datetime:
    """Parse an ISO-8601 timestamp; naive values are taken as UTC."""
    moment = datetime.fromisoformat(text)  # 3.11 reads a trailing "Z"
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
