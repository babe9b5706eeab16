"""Move a warehouse of earlier versions (one DuckDB file) into Parquet segments, once.

Earlier versions kept every table in `warehouse.duckdb`. `ensure_tables` copies each table into
one segment with a fixed name (so a copy interrupted and run again replaces, never duplicates),
then renames the file to `*.migrated`. A file DuckDB cannot read is reported with its name and
the commands that get the platform going again, never as a DuckDB traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pyarrow as pa

from shared.schemas import warehouse as schema

from .warehouse_arrow import arrow_schema
from .warehouse_segments import SegmentStore, WarehouseDamagedError

_CHUNK = 500_000


def migrate(path: Path, store: SegmentStore) -> int:
    """Copy the tables of the DuckDB file `path` into `store`; return the rows copied."""
    if not path.is_file():
        return 0
    copied = 0
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise _damaged(path, exc) from exc
    try:
        present = {f"{s}.{t}" for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
        for spec in schema.TABLES:
            if spec.ref not in present:
                continue
            store.ensure(spec)
            reader = con.execute(f'SELECT * FROM "{spec.dataset}"."{spec.name}"').to_arrow_reader(_CHUNK)
            if reader is None:  # a result with no columns; a table always has some
                continue
            # Chunks bound memory; fixed names make a re-run replace, never duplicate.
            for n, chunk in enumerate(reader):
                data = pa.Table.from_batches([chunk])
                store.append(spec, _conform(spec, data), name=f"l-migrated-{n:06d}.parquet")
                copied += data.num_rows
    except duckdb.Error as exc:
        raise _damaged(path, exc) from exc
    finally:
        con.close()
    for leftover in (path, path.with_name(path.name + ".wal")):
        if leftover.exists():
            os.rename(leftover, leftover.with_name(leftover.name + ".migrated"))
    return copied


def _conform(spec: schema.Table, data: pa.Table) -> pa.Table:
    target = arrow_schema(spec)
    try:
        return data.select(target.names).cast(target)
    except (KeyError, pa.ArrowException):
        # Columns added or removed since: Arrow fills what is missing with nulls.
        return pa.Table.from_pylist(data.to_pylist(), schema=target)


def _damaged(path: Path, exc: Exception) -> WarehouseDamagedError:
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return WarehouseDamagedError(
        f"the warehouse file {path} (from an earlier version of the farm) cannot be read: "
        f"{first_line}. Move it aside with `mv {path} {path}.damaged` (and {path.name}.wal if "
        f"present), then run `farm up` again: the warehouse starts empty, `farm up` writes the "
        f"synthetic market, and `farm data alpaca` reloads real history."
    )
