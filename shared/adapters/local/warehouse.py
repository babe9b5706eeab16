"""DuckDB warehouse: BigQuery-shaped tables in one local file, shared by many processes.

DuckDB lets one process at a time open a database file for writing, and the platform has
several (function host, backtest jobs, ingester, runtimes). So every operation opens its own
short-lived connection and retries with jittered backoff while another process holds the
file lock; a lock that outlasts `lock_timeout_s` becomes a TransientError. Bulk inserts go
through DuckDB's JSON reader in one statement (no row-by-row executemany), sorted by the
partition column so that DuckDB's per-block min/max indexes prune time-range filters the way
BigQuery's day partitions do.
"""

from __future__ import annotations

import json
import logging
import os
import random
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from shared.errors import InvalidInputError, NotFoundError, TransientError
from shared.schemas import warehouse as schema
from shared.sql.ddl import duckdb_ddl, duckdb_json_columns, quote
from shared.sql.dialect import check_params, to_duckdb
from shared.sql.rows import prepare_rows

log = logging.getLogger(__name__)


class DuckDbWarehouse:
    """The warehouse port on a DuckDB file; datasets are schemas, SQL is BigQuery's."""

    def __init__(self, path: Path, *, lock_timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        self.lock_timeout_s = lock_timeout_s

    def ensure_tables(self) -> None:
        """Create every dataset (schema) and table of the warehouse schema that is missing."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            for table in schema.TABLES:
                for statement in duckdb_ddl(table):
                    con.execute(statement)

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Append `rows` to `table` in one statement; validation errors name the column."""
        spec = _table(table)
        prepared = prepare_rows(spec, rows)
        if not prepared:
            return
        order = f" ORDER BY {quote(spec.partition_field)}" if spec.partition_field else ""
        with _json_file(prepared) as path:
            sql = (
                f"INSERT INTO {quote(spec.dataset)}.{quote(spec.name)} BY NAME "
                f"SELECT * FROM read_json(?, format='array', "
                f"columns={duckdb_json_columns(spec)}){order}"
            )
            with self._connect() as con:
                try:
                    con.execute(sql, [str(path)])
                except duckdb.CatalogException as exc:
                    raise NotFoundError(f"{table} does not exist; call ensure_tables() first") from exc
                except (duckdb.ConversionException, duckdb.ConstraintException,
                        duckdb.InvalidInputException) as exc:
                    raise InvalidInputError(f"rows rejected by {table}: {exc}") from exc

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a BigQuery-dialect query with `@params` bound as DuckDB `$params`."""
        translation = to_duckdb(sql)
        values = dict(params or {})
        check_params(translation, values)
        bound = {name: _bind(name, value) for name, value in values.items()}
        with self._connect() as con:
            try:
                cursor = con.execute(translation.sql, bound) if bound else con.execute(translation.sql)
                names = [d[0] for d in cursor.description or ()]
                records = cursor.fetchall()
            except duckdb.CatalogException as exc:
                raise NotFoundError(f"query refers to something that does not exist: {exc}") from exc
            except (duckdb.ParserException, duckdb.BinderException, duckdb.ConversionException,
                    duckdb.InvalidInputException, duckdb.OutOfRangeException) as exc:
                raise InvalidInputError(f"query failed: {exc}") from exc
        return [{name: _result(value) for name, value in zip(names, record)} for record in records]

    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = self._open()
        try:
            yield con
        finally:
            con.close()

    def _open(self) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.lock_timeout_s
        delay = 0.005
        while True:
            try:
                con = duckdb.connect(str(self.path))
                # Results and DATE()/TIMESTAMP_TRUNC must see UTC, as BigQuery does.
                con.execute("SET TimeZone = 'UTC'")
                return con
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise TransientError(f"cannot open warehouse {self.path}: {exc}") from exc
                if time.monotonic() >= deadline:
                    raise TransientError(
                        f"warehouse {self.path} stayed locked by another process for "
                        f"{self.lock_timeout_s:.0f}s"
                    ) from exc
                # Jitter keeps several waiting processes from retrying in lockstep.
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.2)


def _table(ref: str) -> schema.Table:
    try:
        return schema.table(ref)
    except KeyError as exc:
        raise InvalidInputError(str(exc.args[0])) from None


@contextmanager
def _json_file(rows: list[dict[str, Any]]) -> Iterator[Path]:
    fd, name = tempfile.mkstemp(prefix="farm-warehouse-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(rows, separators=(",", ":")))
        yield Path(name)
    finally:
        os.unlink(name)


def _bind(name: str, value: Any) -> Any:
    """Make a parameter bind as BigQuery would type it (naive datetimes are UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (list, tuple)):
        return [_bind(name, v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float, date)):
        return value
    raise InvalidInputError(f"query parameter @{name} has unsupported type {type(value).__name__}")


def _result(value: Any) -> Any:
    """Normalise one result value: timestamps as UTC datetimes, nested values recursively."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value
    if isinstance(value, list):
        return [_result(v) for v in value]
    if isinstance(value, dict):
        return {k: _result(v) for k, v in value.items()}
    return value
