"""Validate rows against the warehouse schema and make them JSON-ready, for both adapters.

Both warehouses receive exactly the same prepared rows (BigQuery through `insert_rows_json`,
DuckDB through `read_json`), so they accept and reject the same input: unknown columns and
missing REQUIRED values are errors, TIMESTAMP takes datetimes or ISO-8601 strings (naive means
UTC, as in BigQuery), DATE takes dates or ISO strings, and missing REPEATED values become [].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from shared.errors import InvalidInputError
from shared.schemas.warehouse import Column, Table

Converter = Callable[[Any], Any]


def prepare_rows(table: Table, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return `rows` validated against `table` and converted to JSON-compatible values."""
    if isinstance(rows, Mapping):
        raise InvalidInputError("insert_rows takes a sequence of rows, not a single row")
    convert = _record_converter(table.columns)
    prepared = []
    for i, row in enumerate(rows):
        try:
            prepared.append(convert(row))
        except _Rejected as exc:
            path = ".".join([f"{table.ref} row {i}", *reversed(exc.path)]).replace(".[", "[")
            raise InvalidInputError(f"{path}: {exc}") from None
    return prepared


class _Rejected(ValueError):
    """A value that does not fit its column; `path` grows as the error unwinds (innermost first)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.path: list[str] = []


@cache
def _record_converter(columns: tuple[Column, ...]) -> Callable[[Any], dict[str, Any]]:
    known = frozenset(c.name for c in columns)
    required = tuple(c.name for c in columns if c.mode == "REQUIRED")
    converters = tuple(
        (c.name, _column_converter(c), c.mode == "REPEATED", _EXACT.get(c.type) if c.mode != "REPEATED" else None)
        for c in columns
    )

    # The hot path of every bulk insert: no per-value string building unless a value is bad.
    def convert(record: Any) -> dict[str, Any]:
        if not isinstance(record, Mapping):
            raise _Rejected(f"needs a mapping, got {type(record).__name__}")
        if not known.issuperset(record.keys()):
            unknown = sorted(str(k) for k in record.keys() - known)
            raise _Rejected(f"unknown column(s) {', '.join(unknown)}")
        for name in required:
            if record.get(name) is None:
                raise _Rejected(f"REQUIRED column {name} is missing")
        out = {}
        get = record.get
        for name, conv, repeated, exact in converters:
            value = get(name)
            if (value is None and not repeated) or type(value) is exact:
                out[name] = value  # already JSON-ready: skip the call
                continue
            try:
                out[name] = conv(value)
            except _Rejected as exc:
                exc.path.append(name)
                raise
        return out

    return convert


def _column_converter(column: Column) -> Converter:
    scalar = _record_converter(column.fields) if column.type == "RECORD" else _SCALARS[column.type]
    if column.mode != "REPEATED":
        return scalar

    def repeated(value: Any) -> list[Any]:
        if value is None:
            return []
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
            raise _Rejected(f"REPEATED column needs a list, got {type(value).__name__}")
        out = []
        for i, item in enumerate(value):
            if item is None:
                raise _Rejected(f"REPEATED values cannot contain null (item {i})")
            try:
                out.append(scalar(item))
            except _Rejected as exc:
                exc.path.append(f"[{i}]")
                raise
        return out

    return repeated


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _Rejected(f"STRING needs str, got {type(value).__name__}")


def _int64(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise _Rejected(f"INT64 needs int, got {value!r}")


def _float64(value: Any) -> float:
    if isinstance(value, float):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    raise _Rejected(f"FLOAT64 needs a number, got {value!r}")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _Rejected(f"BOOL needs bool, got {value!r}")


def _timestamp(value: Any) -> str:
    if type(value) is datetime and value.tzinfo is UTC:
        return value.isoformat()
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise _Rejected(f"{value!r} is not an ISO-8601 timestamp") from None
    elif not isinstance(value, datetime):
        raise _Rejected(f"TIMESTAMP needs datetime or ISO string, got {value!r}")
    if value.tzinfo is None:
        return value.isoformat() + "+00:00"
    return value.isoformat()  # the offset is kept; both warehouses store the instant


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise _Rejected(f"{value!r} is not an ISO-8601 date") from None
    raise _Rejected(f"DATE needs date or ISO string, got {value!r}")


def _json(value: Any) -> Any:
    return value


# Python types that need no conversion for a column type (bool is not an int here).
_EXACT: dict[str, type] = {"STRING": str, "INT64": int, "FLOAT64": float, "BOOL": bool}

_SCALARS: dict[str, Converter] = {
    "STRING": _string,
    "INT64": _int64,
    "FLOAT64": _float64,
    "BOOL": _bool,
    "TIMESTAMP": _timestamp,
    "DATE": _date,
    "JSON": _json,
}
