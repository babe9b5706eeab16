"""Firestore's query semantics over Python values, for the in-memory document store.

The same rules `shared/adapters/local/document_queries.py` writes in SQL: a filter matches only
values of its operand's type (1 is not true, "2" is not greater than 1), `!=` and ordering skip
documents where the field is missing (`!=` skips null too), and ordering by a field ranks types
as Firestore does (null < booleans < numbers < strings < arrays < maps), then falls back to the id.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from shared.adapters.local.document_values import check_filter
from shared.ports.documents import Filter

_MISSING = object()
_RANGE_OPS = ("<", "<=", ">", ">=")


def field_value(document: dict[str, Any], path: str) -> Any:
    """The value at dotted `path`, or `_MISSING`."""
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def matches(document: dict[str, Any], where: Sequence[Filter]) -> bool:
    """True when `document` satisfies every filter (each checked first)."""
    for flt in where:
        if not isinstance(flt, Filter):
            raise TypeError(f"where must hold Filter objects, got {flt!r}")
        check_filter(flt.field, flt.op, flt.value)
    return all(_match(field_value(document, flt.field), flt) for flt in where)


def has_order_field(document: dict[str, Any], order_by: str) -> bool:
    """Ordering by a field skips documents without it."""
    return field_value(document, order_by) is not _MISSING


def order_key(document: dict[str, Any], order_by: str) -> tuple[int, Any]:
    """A sort key that ranks types as Firestore does, then values within a type."""
    value = field_value(document, order_by)
    rank = _rank(value)
    if rank in (4, 5):  # arrays and maps: compare their canonical text (a stable, total order)
        return rank, json.dumps(value, sort_keys=True)
    return rank, 0 if value is None else value


def _match(value: Any, flt: Filter) -> bool:
    if value is _MISSING:
        return False
    if flt.op == "==":
        return _equals(value, flt.value)
    if flt.op == "!=":
        return value is not None and not _equals(value, flt.value)
    if flt.op == "in":
        return any(_equals(value, option) for option in flt.value)
    if flt.op == "array_contains":
        return isinstance(value, list) and any(_equals(item, flt.value) for item in value)
    assert flt.op in _RANGE_OPS
    if _rank(value) != _rank(flt.value):
        return False
    return {"<": value < flt.value, "<=": value <= flt.value, ">": value > flt.value,
            ">=": value >= flt.value}[flt.op]


def _equals(value: Any, operand: Any) -> bool:
    if _rank(value) != _rank(operand):
        return False
    if isinstance(operand, (list, tuple, dict)):
        return json.dumps(value, sort_keys=True) == json.dumps(list(operand) if isinstance(operand, tuple)
                                                               else operand, sort_keys=True)
    return bool(value == operand)


def _rank(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool):
        return 1
    if isinstance(value, (int, float)):
        return 2
    if isinstance(value, str):
        return 3
    if isinstance(value, (list, tuple)):
        return 4
    return 5
