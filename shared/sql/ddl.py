"""Generate warehouse DDL from `shared.schemas.warehouse`, the only definition of the tables.

DuckDB gets `CREATE SCHEMA`/`CREATE TABLE` statements (datasets become schemas, RECORD becomes
STRUCT, REPEATED becomes a list). BigQuery gets its REST schema representation, which the gcp
adapter turns into `SchemaField`s; keeping it as plain dicts keeps this module client-free.
"""

from __future__ import annotations

from typing import Any

from shared.schemas.warehouse import Column, Table

_DUCKDB_TYPES = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "FLOAT64": "DOUBLE",
    "BOOL": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMPTZ",  # BigQuery TIMESTAMP is an absolute instant, like TIMESTAMPTZ
    "DATE": "DATE",
    "JSON": "JSON",
}


def quote(name: str) -> str:
    """Quote an identifier for DuckDB (schema names come from code, but columns like `timestamp`
    and `index` are keywords)."""
    return '"' + name.replace('"', '""') + '"'


def duckdb_type(column: Column) -> str:
    """The DuckDB type of `column`, nested for RECORD and a list for REPEATED."""
    if column.type == "RECORD":
        inner = ", ".join(f"{quote(f.name)} {duckdb_type(f)}" for f in column.fields)
        base = f"STRUCT({inner})"
    else:
        base = _DUCKDB_TYPES[column.type]
    return f"{base}[]" if column.mode == "REPEATED" else base


def duckdb_ddl(table: Table) -> list[str]:
    """Statements that create `table` (and its schema) in DuckDB when absent."""
    columns = ",\n  ".join(
        f"{quote(c.name)} {duckdb_type(c)}{' NOT NULL' if c.mode == 'REQUIRED' else ''}"
        for c in table.columns
    )
    return [
        f"CREATE SCHEMA IF NOT EXISTS {quote(table.dataset)}",
        f"CREATE TABLE IF NOT EXISTS {quote(table.dataset)}.{quote(table.name)} (\n  {columns}\n)",
    ]


def duckdb_json_columns(table: Table) -> str:
    """The `columns={...}` struct literal that makes DuckDB's read_json parse rows as `table`."""
    inner = ", ".join(f"{_sql_string(c.name)}: {_sql_string(duckdb_type(c))}" for c in table.columns)
    return "{" + inner + "}"


def bigquery_schema(table: Table) -> list[dict[str, Any]]:
    """The BigQuery REST representation of `table`'s columns (`SchemaField.from_api_repr`)."""
    return [_bigquery_field(c) for c in table.columns]


def _bigquery_field(column: Column) -> dict[str, Any]:
    field: dict[str, Any] = {"name": column.name, "type": column.type, "mode": column.mode}
    if column.description:
        field["description"] = column.description
    if column.fields:
        field["fields"] = [_bigquery_field(f) for f in column.fields]
    return field


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
