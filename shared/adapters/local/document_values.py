"""Input checks and change delivery shared by both document adapters.

Pure Python with no engine or cloud client, so the Firestore adapter can use the same rules
and the two adapters reject the same bad input with the same errors.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from collections.abc import Callable
from typing import Any

from shared.errors import InvalidInputError
from shared.ports.documents import DocumentChange

log = logging.getLogger(__name__)

OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "array_contains")
MAX_IN_VALUES = 30  # Firestore's limit on disjunctions in one `in` filter
_RETRY_FIRST_S = 0.05
_RETRY_MAX_S = 2.0


def check_collection(collection: str) -> str:
    """Return `collection` or raise InvalidInputError when it is not a usable collection id."""
    if not isinstance(collection, str) or not collection or "/" in collection:
        raise InvalidInputError(
            f"collection must be a non-empty string without '/': {collection!r}"
        )
    return collection


def check_doc_id(doc_id: str) -> str:
    """Return `doc_id` or raise InvalidInputError when Firestore would refuse it."""
    if not isinstance(doc_id, str) or not doc_id or "/" in doc_id or doc_id in (".", ".."):
        raise InvalidInputError(f"document id must be a non-empty string without '/': {doc_id!r}")
    if doc_id.startswith("__") and doc_id.endswith("__"):
        raise InvalidInputError(f"document ids of the form __name__ are reserved: {doc_id!r}")
    return doc_id


def check_document(data: dict[str, Any], *, what: str = "document") -> dict[str, Any]:
    """Return `data` or raise InvalidInputError when it is not a JSON-compatible dict."""
    if not isinstance(data, dict):
        raise InvalidInputError(f"{what} must be a dict, got {type(data).__name__}")
    check_value(data, what)
    return data


def check_value(value: Any, path: str) -> None:
    """Raise InvalidInputError when `value` (at `path`) is not str/int/float/bool/None/list/dict."""
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInputError(f"{path}: NaN and infinity are not JSON values")
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            check_value(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key:
                raise InvalidInputError(f"{path}: keys must be non-empty strings, got {key!r}")
            check_value(item, f"{path}.{key}")
        return
    raise InvalidInputError(f"{path}: {type(value).__name__} is not a JSON-compatible value")


def check_filter(field: str, op: str, value: Any) -> None:
    """Raise InvalidInputError for a filter no adapter can run."""
    if not isinstance(field, str) or not field or any(not part for part in field.split(".")):
        raise InvalidInputError(f"filter field must be a dotted path, got {field!r}")
    if op not in OPS:
        raise InvalidInputError(f"unknown filter operator {op!r}; use one of {', '.join(OPS)}")
    if op == "in":
        if not isinstance(value, (list, tuple)) or not value:
            raise InvalidInputError(f"'in' needs a non-empty list of values, got {value!r}")
        if len(value) > MAX_IN_VALUES:
            raise InvalidInputError(f"'in' takes at most {MAX_IN_VALUES} values, got {len(value)}")
    if op in ("<", "<=", ">", ">=") and (value is None or isinstance(value, (list, tuple, dict))):
        raise InvalidInputError(f"'{op}' compares numbers, strings or booleans, got {value!r}")
    check_value(value, f"filter value for {field}")


def check_page(limit: int | None, offset: int) -> None:
    """Raise InvalidInputError for a negative limit or offset."""
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise InvalidInputError(f"limit must be a non-negative integer, got {limit!r}")
    if not isinstance(offset, int) or offset < 0:
        raise InvalidInputError(f"offset must be a non-negative integer, got {offset!r}")


def deliver(
    on_change: Callable[[DocumentChange], None], change: DocumentChange, stopped: threading.Event
) -> bool:
    """Call `on_change` until it succeeds (backing off between failures); False if stopped first."""
    wait_s = _RETRY_FIRST_S
    while not stopped.is_set():
        try:
            on_change(change)
            return True
        except Exception:
            log.exception("change %s of %s/%s failed; redelivering in %.2fs",
                          change.change_id, change.collection, change.doc_id, wait_s)
            stopped.wait(wait_s)
            wait_s = min(wait_s * 2, _RETRY_MAX_S)
    return False


def deliver_queued(
    on_change: Callable[[DocumentChange], None], changes: queue.Queue[DocumentChange], stopped: threading.Event
) -> None:
    """A watch's delivery thread: each queued change in order, each until it succeeds, until stopped."""
    while not stopped.is_set():
        try:
            change = changes.get(timeout=0.05)  # short: `stopped` is seen soon after close()
        except queue.Empty:
            continue
        deliver(on_change, change, stopped)
