"""A small in-memory Warehouse for unit tests, and the fixture choosing the real DuckDB one.

The fake checks rows against the schema like the real adapters and answers only the queries
these tests send (the bars loader query and `SELECT * FROM <table>`). Once
`shared.adapters.local.warehouse.DuckDbWarehouse` exists, `make_warehouse` returns it instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.errors import InvalidInputError
from shared.ports.warehouse import Warehouse
from shared.schemas.warehouse import table


class InMemoryWarehouse:
    """Rows kept in lists per table; schema-checked inserts."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {}

    def ensure_tables(self) -> None:
        """Nothing to create: tables appear on first insert."""

    def insert_rows(self, ref: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Append rows after checking columns against the schema."""
        schema = table(ref)
        names = {c.name for c in schema.columns}
        required = {c.name for c in schema.columns if c.mode == "REQUIRED"}
        for row in rows:
            unknown = set(row) - names
            missing = {n for n in required if row.get(n) is None}
            if unknown or missing:
                raise InvalidInputError(f"{ref}: unknown {sorted(unknown)} missing {sorted(missing)}")
        self.tables.setdefault(ref, []).extend(dict(r) for r in rows)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Answer `SELECT * FROM t` and the bars loader query."""
        params = params or {}
        ref = re.search(r"FROM\s+([a-z_]+\.[a-z_]+)", sql).group(1)
        rows = list(self.tables.get(ref, []))
        if "@symbols" in sql:
            rows = [
                r
                for r in rows
                if r["symbol"] in params["symbols"]
                and r["timeframe"] == params["timeframe"]
                and params["start"] <= _utc(r["timestamp"]) < params["end"]
            ]
            rows.sort(key=lambda r: (r["symbol"], r["timestamp"]))
        return rows


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def make_warehouse(tmp_path: Path) -> Warehouse:
    """Return the real DuckDbWarehouse when it exists, else the in-memory fake."""
    try:
        from shared.adapters.local.warehouse import DuckDbWarehouse
    except ImportError:
        return InMemoryWarehouse()
    warehouse = DuckDbWarehouse(tmp_path / "warehouse.duckdb")
    warehouse.ensure_tables()
    return warehouse
