"""Firestore values -> plain JSON-compatible values (client errors: shared.adapters.gcp.errors)."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any


def plain(value: Any) -> Any:
    """Return `value` with Firestore types turned into JSON-compatible ones.

    Timestamps become ISO-8601 UTC strings (the platform's own time format), bytes base64,
    geo points `{"latitude", "longitude"}`, references their path.
    """
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dt.datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return stamp.astimezone(dt.UTC).isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if hasattr(value, "latitude") and hasattr(value, "longitude"):
        return {"latitude": value.latitude, "longitude": value.longitude}
    if hasattr(value, "path"):
        return value.path
    return str(value)


def stamp_id(stamp: Any) -> str:
    """Return a precise, stable text form of a Firestore timestamp (nanoseconds kept)."""
    rfc3339 = getattr(stamp, "rfc3339", None)
    return rfc3339() if callable(rfc3339) else stamp.isoformat()
