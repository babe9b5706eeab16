"""Append-only Parquet segments: the local warehouse's storage, safe under `kill -9`.

Every insert writes one new file: a hidden temporary in the table's directory, fsynced, then
renamed to `s-<time>-<random>.parquet` and the directory fsynced. A rename is atomic, so a
segment is either whole or absent; nothing is ever modified in place, so no process, thread or
crash can damage what another wrote. A call that returned has its rows on disk, exactly once.

Many small segments are merged (compacted) into `m-*.parquet` files whose Parquet metadata
lists the segments they replace; readers skip replaced segments, so rows are never seen twice,
even when a compaction dies between writing the merged file and deleting its sources. Sources
are deleted only `grace_s` after the merged file appeared, so a reader that listed the directory
just before still finds them. One compaction per table at a time (a non-blocking flock).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from shared.schemas.warehouse import Table

from .warehouse_arrow import arrow_schema
from .warehouse_files import (
    ROW_GROUP,
    SUFFIX,
    WarehouseDamagedError,
    atomically,
    check_file,
    damaged_error,
    fsync_dir,
    new_name,
    try_lock,
    write_atomically,
)

__all__ = ["Segment", "SegmentStore", "WarehouseDamagedError", "check_file", "damaged_error", "read_segment"]

REPLACES = b"farm.replaces"
_TMP_MAX_AGE_S = 3600.0  # a temporary older than this belongs to a writer that died


@dataclass(frozen=True)
class Segment:
    """One visible Parquet file of a table."""

    path: Path
    size: int


class SegmentStore:
    """The tables of one warehouse as directories of immutable Parquet segments."""

    def __init__(self, root: Path, *, compact_at: int = 16, small_bytes: int = 4 << 20,
                 merge_bytes: int = 32 << 20, grace_s: float = 60.0) -> None:
        self.root = Path(root)
        self.compact_at = compact_at
        self.small_bytes = small_bytes
        self.merge_bytes = merge_bytes
        self.grace_s = grace_s
        self._replaces: dict[str, frozenset[str]] = {}  # merged files never change: cache forever

    def table_dir(self, spec: Table) -> Path:
        """The directory holding `spec`'s segments."""
        return self.root / spec.dataset / spec.name

    def exists(self, spec: Table) -> bool:
        """Whether `ensure` has created the table."""
        return self.table_dir(spec).is_dir()

    def ensure(self, spec: Table) -> None:
        """Create the table's directory and its empty schema segment when missing."""
        directory = self.table_dir(spec)
        directory.mkdir(parents=True, exist_ok=True)
        if not (directory / schema_name(spec)).exists():
            write_atomically(directory, schema_name(spec), arrow_schema(spec).empty_table())

    def append(self, spec: Table, data: pa.Table, *, name: str | None = None) -> Path:
        """Write `data` as a new segment; when this returns the rows are durable."""
        directory = self.table_dir(spec)
        if not directory.is_dir():
            raise FileNotFoundError(directory)
        if not (directory / schema_name(spec)).exists():
            self.ensure(spec)  # the schema changed since ensure_tables ran: add its segment
        return write_atomically(directory, name or new_name("s"), data)

    def visible(self, spec: Table, *, sizes: bool = True) -> list[Segment]:
        """The segments a reader must scan: every file not replaced by a merged one."""
        directory = self.table_dir(spec)
        current = schema_name(spec)
        for _ in range(20):
            try:
                names = _listing(directory, current)
                replaced: set[str] = set()
                for name in names:
                    if name.startswith("m-"):
                        try:
                            replaced |= self.replaced_by(directory / name)
                        except WarehouseDamagedError:
                            pass  # stays listed: check() names it, repair moves it aside
                kept = [directory / n for n in sorted(names) if n not in replaced]
                return [Segment(p, p.stat().st_size if sizes else -1) for p in kept]
            except FileNotFoundError:
                if not directory.is_dir():
                    raise
                # A merged file was deleted while listing (a newer one replaces it): list again.
        raise WarehouseDamagedError(f"the warehouse directory {directory} keeps changing under its reader")

    def replaced_by(self, path: Path) -> frozenset[str]:
        """The segment names that merged file `path` replaces (read once from its footer)."""
        key = str(path)
        known = self._replaces.get(key)
        if known is None:
            try:
                metadata = pq.read_metadata(path).metadata or {}
            except (pa.ArrowInvalid, OSError) as exc:
                if isinstance(exc, FileNotFoundError):
                    raise
                raise damaged_error(path, exc) from exc
            known = frozenset(json.loads(metadata.get(REPLACES, b"[]")))
            self._replaces[key] = known
        return known

    def damaged(self, spec: Table) -> list[tuple[Path, str]]:
        """Visible segments that are not whole Parquet files, with the reason."""
        found = []
        for segment in self.visible(spec):
            reason = check_file(segment.path)
            if reason:
                found.append((segment.path, reason))
        return found

    def quarantine(self, spec: Table) -> list[Path]:
        """Move damaged segments to `<root>/damaged/`; return where they went."""
        moved = []
        for path, _ in self.damaged(spec):
            target = self.root / "damaged" / spec.ref / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(path, target)
            fsync_dir(path.parent)
            self._replaces.pop(str(path), None)
            moved.append(target)
        return moved

    def needs_compaction(self, spec: Table) -> bool:
        """Whether enough small segments have piled up to merge them."""
        # Names first (no stat per file): only when enough appends are visible do sizes matter.
        appended = sum(s.path.name.startswith("s-") for s in self.visible(spec, sizes=False))
        return appended >= self.compact_at and len(self._small(spec)) >= self.compact_at

    def compact(self, spec: Table, *, force: bool = False) -> int:
        """Merge small segments into one; return how many were merged (0: nothing or busy)."""
        directory = self.table_dir(spec)
        with try_lock(directory / ".compact.lock") as held:
            if not held:
                return 0
            self._collect_garbage(spec)
            small = self._small(spec)
            if len(small) < (2 if force else self.compact_at):
                return 0
            chosen: list[Segment] = []
            total = 0
            for segment in small:
                if len(chosen) >= 2 and total + segment.size > self.merge_bytes:
                    break
                chosen.append(segment)
                total += segment.size
            self._merge(spec, chosen)
            return len(chosen)

    def _merge(self, spec: Table, chosen: list[Segment]) -> None:
        """Write `chosen` as one merged segment, a row group at a time (memory stays bounded)."""
        names = json.dumps([s.path.name for s in chosen]).encode()
        schema = arrow_schema(spec).with_metadata({REPLACES: names})
        directory = self.table_dir(spec)
        with atomically(directory, new_name("m")) as tmp, pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            pending: list[pa.Table] = []
            for segment in chosen:
                pending.append(read_segment(spec, segment.path))
                if sum(t.num_rows for t in pending) >= ROW_GROUP:
                    _write_group(writer, spec, pending)
                    pending = []
            _write_group(writer, spec, pending)

    def _small(self, spec: Table) -> list[Segment]:
        current = schema_name(spec)
        return [s for s in self.visible(spec) if s.size < self.small_bytes and s.path.name != current]

    def _collect_garbage(self, spec: Table) -> None:
        # Called under the compaction lock. A replaced file goes once its replacement is older
        # than the grace period; a merged file goes only after its own sources are gone, or they
        # would become visible again next to the rows it holds.
        directory = self.table_dir(spec)
        now = time.time()
        ages = {}
        with os.scandir(directory) as entries:
            for entry in entries:
                try:
                    ages[entry.name] = now - entry.stat().st_mtime
                except FileNotFoundError:
                    continue
        for name, age in ages.items():
            if name.startswith(".tmp-") and age > _TMP_MAX_AGE_S:
                (directory / name).unlink(missing_ok=True)
        merged = {n: self.replaced_by(directory / n) for n in ages if n.startswith("m-") and n.endswith(SUFFIX)}
        doomed = {r for m, sources in merged.items() if ages[m] > self.grace_s for r in sources if r in ages}
        for name in sorted(doomed, key=lambda n: n.startswith("m-")):  # plain segments first
            if name.startswith("m-") and any((directory / s).exists() for s in merged.get(name, ())):
                continue
            (directory / name).unlink(missing_ok=True)
            self._replaces.pop(str(directory / name), None)


def schema_name(spec: Table) -> str:
    """The name of the table's empty segment for the current schema (readers never see none)."""
    digest = hashlib.sha256(arrow_schema(spec).serialize().to_pybytes()).hexdigest()[:16]
    return f"_schema-{digest}{SUFFIX}"


def read_segment(spec: Table, path: Path) -> pa.Table:
    """Read one segment in the current schema (older segments are converted)."""
    data = pq.read_table(path)
    schema = arrow_schema(spec)
    if data.schema.equals(schema, check_metadata=False):
        return data.replace_schema_metadata(None)
    # Written under another schema: Arrow fills missing columns and fields with nulls.
    return pa.Table.from_pylist(data.to_pylist(), schema=schema)


def _listing(directory: Path, current_schema: str) -> list[str]:
    names = []
    with os.scandir(directory) as entries:
        for entry in entries:
            name = entry.name
            if not name.endswith(SUFFIX) or name.startswith("."):
                continue
            if name.startswith("_schema-") and name != current_schema:
                continue  # an older schema's empty segment
            names.append(name)
    return names


def _write_group(writer: pq.ParquetWriter, spec: Table, tables: list[pa.Table]) -> None:
    if not tables:
        return
    group = pa.concat_tables(tables)
    if spec.partition_field:
        group = group.sort_by(spec.partition_field)  # sorted groups keep min/max pruning sharp
    writer.write_table(group.replace_schema_metadata(writer.schema.metadata), row_group_size=ROW_GROUP)


