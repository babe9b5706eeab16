"""Durable files for the local warehouse: write once, atomically, and check that a file is whole.

A file is written to a hidden temporary in its directory, fsynced, renamed to its name and the
directory fsynced: a rename is atomic, so a file is either whole or absent, and a call that
returned has it on disk. `check_file` says why a Parquet file is not whole; `try_lock` is the
non-blocking flock that keeps one compaction per table.
"""

from __future__ import annotations

import fcntl
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from shared.errors import FarmError

SUFFIX = ".parquet"
ROW_GROUP = 122_880  # DuckDB's own row group size: min/max per group prune time-range filters


class WarehouseDamagedError(FarmError):
    """A warehouse file cannot be read; the message names it and the way out."""

    code = "data_loss"


def check_file(path: Path) -> str | None:
    """Why `path` is not a whole Parquet file, or None when its footer reads back."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(4)
            f.seek(max(size - 4, 0))
            tail = f.read(4)
        if size < 12 or head != b"PAR1" or tail != b"PAR1":
            return f"not a whole Parquet file ({size} bytes, magic {head!r}...{tail!r})"
        pq.read_metadata(path)
    except (OSError, pa.ArrowException) as exc:
        return str(exc)
    return None


def damaged_error(path: Path, cause: object) -> WarehouseDamagedError:
    """The error that names a damaged segment and how to go on without it."""
    return WarehouseDamagedError(
        f"warehouse segment {path} is damaged ({cause}). Run `farm data repair` to move damaged "
        f"segments aside into {path.parents[2] / 'damaged'} (the rows in them are lost unless you "
        f"restore the file from a backup), then start again."
    )


def new_name(kind: str) -> str:
    # Time first so names sort in write order; the random part makes them unique everywhere.
    return f"{kind}-{time.time_ns():020d}-{uuid.uuid4().hex[:16]}{SUFFIX}"


def write_atomically(directory: Path, name: str, data: pa.Table) -> Path:
    # Small segments are merged soon: write them fast; large ones compressed hard.
    compression = "zstd" if data.num_rows >= 10_000 else "snappy"
    with atomically(directory, name) as tmp:
        if data.num_rows >= 10_000:
            pq.write_table(data, tmp, compression=compression, row_group_size=ROW_GROUP)
        else:  # one write(2) of a file built in memory: cheaper for the many small appends
            buffer = pa.BufferOutputStream()
            pq.write_table(data, buffer, compression=compression, row_group_size=ROW_GROUP)
            with open(tmp, "wb") as out:
                out.write(buffer.getvalue().to_pybytes())
    return directory / name


@contextmanager
def atomically(directory: Path, name: str) -> Iterator[Path]:
    """Yield a temporary path to write; then fsync it and rename it to `name`, durably."""
    tmp = directory / f".tmp-{uuid.uuid4().hex}{SUFFIX}"
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, directory / name)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(directory)  # the rename itself must survive a power cut before we acknowledge


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def try_lock(path: Path) -> Iterator[bool]:
    # flock belongs to the open file description: it excludes other threads' opens too, and the
    # kernel drops it when the holder dies, even by kill -9.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
