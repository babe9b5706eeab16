"""Translate document filters and ordering into SQLite SQL over `json_extract`.

Semantics follow Firestore: a filter only matches values of the same type as its operand (1 does
not equal true, "2" is not greater than 1), `!=` and ordering skip documents where the field is
missing, and results ordered by a field fall back to the document id, in the same direction.
Field paths and values are always bound as parameters, never spliced into the SQL text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from shared.adapters.local.document_values import check_filter, check_page
from shared.errors import InvalidInputError
from shared.ports.documents import Filter

Params = dict[str, Any]

# Firestore's cross-type order: null < booleans < numbers < strings < arrays < maps.
_TYPE_RANK = (
    "CASE {t} WHEN 'null' THEN 0 WHEN 'false' THEN 1 WHEN 'true' THEN 1 WHEN 'integer' THEN 2 "
    "WHEN 'real' THEN 2 WHEN 'text' THEN 3 WHEN 'array' THEN 4 ELSE 5 END"
)
_RANGE_OPS = ("<", "<=", ">", ">=")


def json_path(field: str) -> str:
    """Return the SQLite JSON path for a dotted field (each part quoted, so `-` etc. are fine)."""
    return "$" + "".join(f'."{part}"' for part in field.split("."))


def build_query(
    collection: str,
    where: Sequence[Filter],
    *,
    order_by: str | None,
    descending: bool,
    limit: int | None,
    offset: int,
) -> tuple[str, Params]:
    """Return `(sql, params)` selecting `doc_id, data` of the matching documents."""
    check_page(limit, offset)
    params: Params = {"collection": collection}
    clauses = ["collection = :collection"]
    for index, flt in enumerate(where):
        if not isinstance(flt, Filter):
            raise TypeError(f"where must hold Filter objects, got {flt!r}")
        check_filter(flt.field, flt.op, flt.value)
        path_key = f"p{index}"
        params[path_key] = _sqlite_path(flt.field)
        clauses.append(_condition(flt, path_key, f"v{index}", params))
    direction = "DESC" if descending else "ASC"
    if order_by is not None:
        check_filter(order_by, "==", None)
        params["order"] = _sqlite_path(order_by)
        kind = "json_type(data, :order)"
        clauses.append(f"{kind} IS NOT NULL")
        ordering = (
            f"{_TYPE_RANK.format(t=kind)} {direction}, json_extract(data, :order) {direction}, "
            f"doc_id {direction}"
        )
    else:
        ordering = f"doc_id {direction}"
    params["limit"] = -1 if limit is None else limit
    params["offset"] = offset
    sql = (
        f"SELECT doc_id, data FROM documents WHERE {' AND '.join(clauses)} "
        f"ORDER BY {ordering} LIMIT :limit OFFSET :offset"
    )
    return sql, params


def _sqlite_path(field: str) -> str:
    if '"' in field:
        # SQLite's JSON path syntax has no escape for a quote inside a quoted key.
        raise InvalidInputError(f"field paths may not contain '\"': {field!r}")
    return json_path(field)


def _condition(flt: Filter, path_key: str, value_key: str, params: Params) -> str:
    kind = f"json_type(data, :{path_key})"
    value = f"json_extract(data, :{path_key})"
    if flt.op == "==":
        return _equals(kind, value, flt.value, value_key, params)
    if flt.op == "!=":
        equal = _equals(kind, value, flt.value, value_key, params)
        return f"({kind} IS NOT NULL AND {kind} != 'null' AND NOT ({equal}))"
    if flt.op == "in":
        options = [
            _equals(kind, value, item, f"{value_key}_{n}", params)
            for n, item in enumerate(flt.value)
        ]
        return "(" + " OR ".join(f"({option})" for option in options) + ")"
    if flt.op == "array_contains":
        element = _equals("e.type", "e.value", flt.value, value_key, params)
        return (
            f"({kind} = 'array' AND EXISTS "
            f"(SELECT 1 FROM json_each(data, :{path_key}) AS e WHERE {element}))"
        )
    assert flt.op in _RANGE_OPS
    return _compare(kind, value, flt.op, flt.value, value_key, params)


def _equals(kind: str, value: str, operand: Any, key: str, params: Params) -> str:
    """SQL true when the JSON value (type `kind`, SQL value `value`) equals `operand`."""
    if operand is None:
        return f"{kind} = 'null'"
    if isinstance(operand, bool):
        return f"{kind} = '{'true' if operand else 'false'}'"
    if isinstance(operand, (int, float)):
        params[key] = operand
        return f"({kind} IN ('integer', 'real') AND {value} = :{key})"
    if isinstance(operand, str):
        params[key] = operand
        return f"({kind} = 'text' AND {value} = :{key})"
    # Arrays and maps: json_extract yields their minified JSON text; compare it with ours.
    params[key] = json.dumps(operand, separators=(",", ":"), sort_keys=True)
    json_kind = "array" if isinstance(operand, (list, tuple)) else "object"
    return f"({kind} = '{json_kind}' AND {value} = json(:{key}))"


def _compare(kind: str, value: str, op: str, operand: Any, key: str, params: Params) -> str:
    params[key] = operand
    if isinstance(operand, bool):
        types = "('true', 'false')"  # json_extract gives 0/1, so false < true as in Firestore
    elif isinstance(operand, (int, float)):
        types = "('integer', 'real')"
    else:
        types = "('text')"
    return f"({kind} IN {types} AND {value} {op} :{key})"
