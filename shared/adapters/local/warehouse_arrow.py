"""Turn warehouse rows into one Arrow table with the schema of `shared.schemas.warehouse`.

Rows are converted column by column: each column's values go to `pyarrow.array` in one call,
which checks their types in C. Only a column that Arrow refuses is walked in Python, with the
converters of `shared.sql.rows`, so that bad input is rejected with the same messages (table,
row, column) as the BigQuery adapter gives, and ISO strings are accepted where BigQuery accepts
them. Arrow ignores unknown keys of nested records, so those are checked here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any, TypeAlias

import pyarrow as pa

from shared.errors import InvalidInputError
from shared.schemas.warehouse import Column, Table
from shared.sql.rows import prepare_rows

Batch: TypeAlias = Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]] | pa.Table

_SCALAR_TYPES: dict[str, pa.DataType] = {
    "STRING": pa.string(),
    "INT64": pa.int64(),
    "FLOAT64": pa.float64(),
    "BOOL": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),  # an instant, as BigQuery's TIMESTAMP
    "DATE": pa.date32(),
    "JSON": pa.string(),  # JSON text; the DuckDB view casts it to JSON
}


def arrow_type(column: Column) -> pa.DataType:
    """The Arrow type of `column`: RECORD is a struct, REPEATED a list."""
    if column.type == "RECORD":
        base = pa.struct([arrow_field(f) for f in column.fields])
    else:
        base = _SCALAR_TYPES[column.type]
    return pa.list_(base) if column.mode == "REPEATED" else base


def arrow_field(column: Column) -> pa.Field:
    """The Arrow field of `column` (REQUIRED is not nullable)."""
    return pa.field(column.name, arrow_type(column), nullable=column.mode != "REQUIRED")


@cache
def arrow_schema(table: Table) -> pa.Schema:
    """The Arrow schema of `table`, columns in schema order."""
    return pa.schema([arrow_field(c) for c in table.columns])


def to_arrow(table: Table, batch: Batch) -> pa.Table:
    """Validate `batch` (rows, a dict of columns, or an Arrow table) as one table of `table`."""
    if isinstance(batch, pa.Table):
        return _from_arrow(table, batch)
    if isinstance(batch, Mapping):
        return _from_columns(table, batch)
    return rows_to_arrow(table, batch)


def rows_to_arrow(table: Table, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Validate `rows` (dicts keyed by column) and return them as one Arrow table."""
    if isinstance(rows, Mapping):
        raise InvalidInputError("insert_rows takes a sequence of rows, not a single row")
    rows = rows if isinstance(rows, list) else list(rows)
    known = frozenset(c.name for c in table.columns)
    within = known.issuperset
    # One C-level pass per check; the precise message comes from the row-wise validator.
    if not all(type(r) is dict for r in rows):
        if not all(isinstance(r, Mapping) for r in rows):
            prepare_rows(table, rows)  # raises, naming the row
        rows = [dict(r) for r in rows]
    if not all(map(within, rows)):
        prepare_rows(table, rows)  # raises, naming the unknown column
    columns = {c.name: [r.get(c.name) for r in rows] for c in table.columns}
    return _columns_to_arrow(table, columns, len(rows), rows)


def _from_columns(table: Table, columns: Mapping[str, Sequence[Any]]) -> pa.Table:
    known = {c.name for c in table.columns}
    unknown = sorted(str(k) for k in columns.keys() - known)
    if unknown:
        raise InvalidInputError(f"{table.ref}: unknown column(s) {', '.join(unknown)}")
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise InvalidInputError(f"{table.ref}: columns have different lengths {sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    full = {c.name: list(columns.get(c.name) or [None] * n) for c in table.columns}
    return _columns_to_arrow(table, full, n, None)


def _from_arrow(table: Table, data: pa.Table) -> pa.Table:
    schema = arrow_schema(table)
    unknown = sorted(set(data.column_names) - set(schema.names))
    if unknown:
        raise InvalidInputError(f"{table.ref}: unknown column(s) {', '.join(unknown)}")
    arrays = []
    for field in schema:
        if field.name not in data.column_names:
            arrays.append(pa.nulls(data.num_rows, field.type))
            continue
        try:
            arrays.append(data.column(field.name).cast(field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise InvalidInputError(f"{table.ref}.{field.name}: {exc}") from None
    out = pa.Table.from_arrays(arrays, schema=_nullable(schema))
    if any(out.column(c.name).null_count for c in table.columns if c.mode != "NULLABLE"):
        # Rare (nulls in REQUIRED or REPEATED columns): the row path names them or fills [].
        return rows_to_arrow(table, out.to_pylist())
    return out.cast(schema)


def _columns_to_arrow(
    table: Table, columns: dict[str, list[Any]], n: int, rows: Sequence[Mapping[str, Any]] | None
) -> pa.Table:
    arrays = []
    for column in table.columns:
        values = columns[column.name]
        array = _array(column, values)
        if array is None:
            array = _array_slowly(table, column, values)
        elif column.mode == "REPEATED" and array.null_count:
            # A missing list is [] (as in BigQuery): null slots have no items, so drop the mask.
            array = pa.ListArray.from_arrays(array.offsets, array.values, type=array.type)
        elif column.mode == "REQUIRED" and array.null_count:
            row = next(i for i, v in enumerate(values) if v is None)
            raise InvalidInputError(f"{table.ref} row {row}: REQUIRED column {column.name} is missing")
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=arrow_schema(table)) if n else arrow_schema(table).empty_table()


def _array(column: Column, values: list[Any]) -> pa.Array | None:
    """One Arrow call for the whole column; None when Arrow refuses or a value needs checking."""
    if column.type == "JSON":
        return None
    try:
        array = pa.array(values, type=arrow_type(column))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return None
    if column.type == "RECORD" and not _keys_known(column, values):
        return None
    if column.mode == "REPEATED" and array.values.null_count and column.type != "RECORD":
        return None  # a null inside a list: BigQuery refuses it
    inner = array.values if column.mode == "REPEATED" else array
    if column.type == "RECORD" and _null_lists(inner):
        return None  # a record's missing list must become [], as BigQuery stores it
    return array


def _null_lists(array: pa.Array) -> bool:
    """Whether a list anywhere inside `array` (a struct's fields, at any depth) is null."""
    kind = array.type
    if pa.types.is_list(kind):
        return array.null_count > 0 or _null_lists(array.values)
    if pa.types.is_struct(kind):
        return any(_null_lists(array.field(i)) for i in range(kind.num_fields))
    return False


def _keys_known(column: Column, values: list[Any]) -> bool:
    """Whether every record (at every depth) has only keys of the schema."""
    if column.mode == "REPEATED":
        records = [item for value in values if value for item in value]
    else:
        records = [value for value in values if value is not None]
    if not records:
        return True
    if not all(type(r) is dict for r in records):
        return False
    if not set().union(*records) <= {f.name for f in column.fields}:
        return False
    if None in records or (column.mode == "REPEATED" and any(None in v for v in values if v)):
        return False
    return all(_keys_known(f, [r.get(f.name) for r in records]) for f in column.fields if f.type == "RECORD")


def _array_slowly(table: Table, column: Column, values: list[Any]) -> pa.Array:
    """Validate value by value (precise messages, ISO strings accepted) and convert."""
    prepared = prepare_rows(_single(table, column), [{column.name: v} for v in values])
    converted = [_typed(column, row[column.name]) for row in prepared]
    try:
        return pa.array(converted, type=arrow_type(column))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidInputError(f"{table.ref}.{column.name}: {exc}") from None


def _typed(column: Column, value: Any) -> Any:
    """A JSON-ready value of `shared.sql.rows` back as the Python value Arrow takes."""
    if value is None:
        return None
    if column.mode == "REPEATED":
        return [_typed(_one(column), v) for v in value]
    if column.type == "TIMESTAMP":
        return datetime.fromisoformat(value)
    if column.type == "DATE":
        return date.fromisoformat(value)
    if column.type == "JSON":
        return json.dumps(value, separators=(",", ":"))
    if column.type == "RECORD":
        return {f.name: _typed(f, value.get(f.name)) for f in column.fields}
    return value


@cache
def _one(column: Column) -> Column:
    return Column(column.name, column.type, "NULLABLE", column.fields)


@cache
def _single(table: Table, column: Column) -> Table:
    # A one-column table with the same name, so row-wise messages name the real table.
    return Table(table.dataset, table.name, (column,))


def _nullable(schema: pa.Schema) -> pa.Schema:
    return pa.schema([f.with_nullable(True) for f in schema])
