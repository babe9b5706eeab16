"""Firestore <-> platform translation: plain values out, shared.errors for client exceptions."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from google.api_core import exceptions as gexc

from shared.errors import (
    BackendAccessError,
    ConflictError,
    FarmError,
    InvalidInputError,
    NotFoundError,
    TransientError,
)

_TRANSIENT = (
    gexc.ServiceUnavailable,
    gexc.DeadlineExceeded,
    gexc.InternalServerError,
    gexc.TooManyRequests,
    gexc.ResourceExhausted,
    gexc.Unknown,
    gexc.RetryError,
)


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


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Re-raise google.api_core exceptions from the block as shared.errors types."""
    try:
        yield
    except FarmError:
        raise
    except gexc.AlreadyExists as exc:
        raise ConflictError(f"{what}: already exists") from exc
    except gexc.Aborted as exc:
        raise ConflictError(f"{what}: aborted by a concurrent write") from exc
    except gexc.NotFound as exc:
        raise NotFoundError(f"{what}: not found") from exc
    except (gexc.InvalidArgument, gexc.FailedPrecondition, gexc.OutOfRange) as exc:
        raise InvalidInputError(f"{what}: {exc.message}") from exc
    except gexc.Unauthenticated as exc:
        raise BackendAccessError(f"{what}: {exc.message}") from exc
    except gexc.PermissionDenied as exc:
        raise BackendAccessError(f"{what}: {exc.message}") from exc
    except _TRANSIENT as exc:
        raise TransientError(f"{what}: {exc}") from exc
