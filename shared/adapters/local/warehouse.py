"""Local warehouse: BigQuery-shaped tables as Parquet segments, queried with DuckDB.

Storage (`warehouse_segments`): every insert is one immutable Parquet file, written to a
temporary, fsynced and renamed into the table's directory, so any number of processes and
threads append at once without a lock, a `kill -9` leaves every acknowledged row whole, and no
file is ever written in place. Small segments are merged in a background thread
(`warehouse_compactor`).

Queries: each instance has its own in-memory DuckDB, never a shared database file. Before a
query it lists each table's segments and, when they changed, points the table's view at them;
BigQuery SQL is transpiled by sqlglot and its `@params` bound as DuckDB `$params`.

Inserts are columnar (`warehouse_arrow`): rows become one Arrow table with the schema of
`shared.schemas.warehouse`, validated column by column, sorted by the partition column so that
per-row-group min/max statistics prune time-range filters as BigQuery's day partitions do.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from shared.errors import InvalidInputError, NotFoundError, TransientError
from shared.schemas import warehouse as schema
from shared.sql.ddl import duckdb_type, quote
from shared.sql.dialect import check_params, to_duckdb

from . import warehouse_legacy
from .warehouse_arrow import Batch, rows_to_arrow, to_arrow
from .warehouse_compactor import BackgroundCompactor
from .warehouse_files import WarehouseDamagedError, check_file, damaged_error
from .warehouse_segments import SegmentStore

log = logging.getLogger(__name__)

__all__ = ["DuckDbWarehouse", "WarehouseDamagedError"]


class DuckDbWarehouse:
    """The warehouse port on local Parquet segments; datasets are schemas, SQL is BigQuery's.

    `path` names the warehouse (`<data>/warehouse.duckdb` by convention): its segments live in
    the directory beside it without the suffix (`<data>/warehouse/`). A DuckDB file found at
    `path`, from earlier versions, is migrated into segments by `ensure_tables`.
    """

    def __init__(self, path: Path, *, lock_timeout_s: float = 30.0, compact_at: int = 16,
                 grace_s: float = 60.0, compact_in_background: bool = True) -> None:
        self.path = Path(path)
        self.lock_timeout_s = lock_timeout_s  # kept for callers; appends never wait for a lock
        root = self.path.with_suffix("") if self.path.suffix else self.path.with_name(self.path.name + ".d")
        self.store = SegmentStore(root, compact_at=compact_at, grace_s=grace_s)
        self._compactor = BackgroundCompactor(self.store, background=compact_in_background)
        self._lock = threading.Lock()  # guards the DuckDB catalog (views)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._pid = os.getpid()
        self._views: dict[str, tuple[str, ...]] = {}

    @property
    def root(self) -> Path:
        """The directory holding every table's segments."""
        return self.store.root

    def ensure_tables(self) -> None:
        """Create missing tables, migrate an earlier DuckDB file, check every segment is whole."""
        self.root.mkdir(parents=True, exist_ok=True)
        copied = warehouse_legacy.migrate(self.path, self.store)
        if copied:
            log.info("warehouse: moved %d rows from %s into %s", copied, self.path, self.root)
        for spec in schema.TABLES:
            self.store.ensure(spec)
        self.check()
        for spec in schema.TABLES:
            if self.store.needs_compaction(spec):  # segments that short-lived writers left
                self._compactor.request(spec)

    def check(self) -> None:
        """Raise WarehouseDamagedError naming the first segment that is not whole."""
        for spec in schema.TABLES:
            if self.store.exists(spec):
                for path, reason in self.store.damaged(spec):
                    raise damaged_error(path, reason)

    def repair(self) -> list[Path]:
        """Move damaged segments aside (their rows are lost); return where they went."""
        moved = []
        for spec in schema.TABLES:
            if self.store.exists(spec):
                moved += self.store.quarantine(spec)
        with self._lock:
            self._views.clear()
        return moved

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Append `rows` to `table` as one segment; validation errors name the column."""
        spec = _table(table)
        self._append(spec, rows_to_arrow(spec, rows))

    def insert_batch(self, table: str, batch: Batch) -> None:
        """Append a batch (rows, a dict of equal-length columns, or a pyarrow.Table) at once."""
        spec = _table(table)
        self._append(spec, to_arrow(spec, batch))

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a BigQuery-dialect query with `@params` bound as DuckDB `$params`."""
        translation = to_duckdb(sql)
        values = dict(params or {})
        check_params(translation, values)
        bound = {name: _bind(name, value) for name, value in values.items()}
        for attempt in range(5):
            try:
                cursor = self._cursor(_tables_in(sql))
                try:
                    result = cursor.execute(translation.sql, bound) if bound else cursor.execute(translation.sql)
                    names = [d[0] for d in result.description or ()]
                    records = result.fetchall()
                finally:
                    cursor.close()
                break
            except duckdb.CatalogException as exc:
                raise NotFoundError(f"query refers to something that does not exist: {exc}") from exc
            except (duckdb.ParserException, duckdb.BinderException, duckdb.ConversionException,
                    duckdb.OutOfRangeException) as exc:
                raise InvalidInputError(f"query failed: {exc}") from exc
            except (duckdb.IOException, duckdb.InvalidInputException) as exc:
                if str(self.root) not in str(exc):  # not about a segment: the query itself
                    raise InvalidInputError(f"query failed: {exc}") from exc
                self._explain_failure(exc, attempt)
        return [{name: _result(value) for name, value in zip(names, record, strict=True)} for record in records]

    def compact(self) -> int:
        """Merge small segments of every table now; return how many segments were merged."""
        return sum(self.store.compact(spec, force=True) for spec in schema.TABLES if self.store.exists(spec))

    def close(self) -> None:
        """Finish a running compaction and release the query engine."""
        self._compactor.join(timeout=60)
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
            self._views.clear()

    def _append(self, spec: schema.Table, data: pa.Table) -> None:
        if not data.num_rows:
            return
        field = spec.partition_field
        if field and data.num_rows > 1 and not _sorted(data.column(field)):
            data = data.sort_by(field)
        try:
            self.store.append(spec, data)
        except FileNotFoundError as exc:
            raise NotFoundError(f"{spec.ref} does not exist; call ensure_tables() first") from exc
        except OSError as exc:
            raise TransientError(f"cannot write to the warehouse at {self.root}: {exc}") from exc
        if self.store.needs_compaction(spec):
            self._compactor.request(spec)

    def _cursor(self, tables: Sequence[schema.Table] = schema.TABLES) -> duckdb.DuckDBPyConnection:
        """A cursor on this instance's DuckDB, the views of `tables` on their current segments."""
        with self._lock:
            if self._con is None or self._pid != os.getpid():
                # A forked child never touches its parent's engine (its threads did not fork).
                self._con, self._pid, self._views = duckdb.connect(":memory:"), os.getpid(), {}
                # Results and DATE()/TIMESTAMP_TRUNC must see UTC, as BigQuery does; segments never
                # change once written, so their footers can be cached.
                self._con.execute("SET TimeZone = 'UTC'")
                self._con.execute("SET parquet_metadata_cache = true")
            for spec in tables:
                self._refresh_view(self._con, spec)
            return self._con.cursor()

    def _refresh_view(self, con: duckdb.DuckDBPyConnection, spec: schema.Table) -> None:
        if not self.store.exists(spec):
            if self._views.pop(spec.ref, None) is not None:
                con.execute(f"DROP VIEW IF EXISTS {quote(spec.dataset)}.{quote(spec.name)}")
            return
        files = tuple(str(s.path) for s in self.store.visible(spec, sizes=False))
        if self._views.get(spec.ref) == files:
            return
        if not files:
            self.store.ensure(spec)
            files = tuple(str(s.path) for s in self.store.visible(spec, sizes=False))
        if len(files) > 2 * self.store.compact_at and self._compactor.background:
            self._compactor.request(spec)  # a reader merges too when writers left many segments
        listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        columns = ", ".join(_view_column(c) for c in spec.columns)
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(spec.dataset)}")
        con.execute(
            f"CREATE OR REPLACE VIEW {quote(spec.dataset)}.{quote(spec.name)} AS "
            f"SELECT {columns} FROM read_parquet([{listed}], union_by_name = true)"
        )
        self._views[spec.ref] = files

    def _explain_failure(self, exc: duckdb.Error, attempt: int) -> None:
        """Raise what a failed scan means: a damaged segment, or (after retries) a transient error."""
        with self._lock:
            self._views.clear()  # a segment may have been merged and deleted: list again
        for spec in schema.TABLES:
            if not self.store.exists(spec):
                continue
            for segment in self.store.visible(spec):
                if segment.path.name in str(exc):
                    reason = check_file(segment.path)
                    if reason:
                        raise damaged_error(segment.path, reason) from exc
        if attempt >= 4:
            raise TransientError(f"warehouse query failed on {self.root}: {exc}") from exc
        log.info("warehouse: retrying a query whose segments changed under it: %s", exc)


def _table(ref: str) -> schema.Table:
    try:
        return schema.table(ref)
    except KeyError as exc:
        raise InvalidInputError(str(exc.args[0])) from None


@lru_cache(maxsize=512)
def _tables_in(sql: str) -> tuple[schema.Table, ...]:
    """The warehouse tables `sql` reads (only their segments need listing before it runs)."""
    refs = {f"{t.db}.{t.name}" for t in sqlglot.parse_one(sql, read="bigquery").find_all(exp.Table)}
    return tuple(t for t in schema.TABLES if t.ref in refs)


def _view_column(column: schema.Column) -> str:
    name = quote(column.name)
    if column.mode == "REPEATED":
        # Segments written before the column existed have no value: BigQuery reads those as [].
        return f"COALESCE({name}, CAST([] AS {duckdb_type(column)})) AS {name}"
    return name


def _sorted(column: pa.ChunkedArray) -> bool:
    if column.null_count:
        return False
    return bool(pc.all(pc.greater_equal(column[1:], column[:-1])).as_py())


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
