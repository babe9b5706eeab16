"""FmelRecorder: batch decision rows into the warehouse without ever losing one.

`add()` is cheap and thread-safe. A background thread writes a batch when `batch_size` rows are
waiting or `flush_interval_s` has passed, retrying transient failures with exponential backoff.
When the warehouse keeps failing, the batch is spilled to a JSON-lines file in `spill_dir`;
spilled files are replayed, oldest first, after the next successful write and when a recorder
starts (so a process killed after spilling loses nothing that was spilled). `close()` writes or
spills everything still buffered.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

from shared.errors import InvalidInputError, ValidationFailedError
from shared.fmel.record import TABLE, row_from_json, row_to_json
from shared.ports.warehouse import Warehouse

log = logging.getLogger(__name__)
# The rows themselves are wrong: retrying or replaying them cannot succeed.
PERMANENT_ERRORS: tuple[type[Exception], ...] = (InvalidInputError, ValidationFailedError)


class FmelRecorder:
    """Buffer decision rows and write them to `fmel.decisions` in batches, spilling on failure."""

    def __init__(
        self,
        warehouse: Warehouse,
        spill_dir: str | Path,
        batch_size: int = 500,
        flush_interval_s: float = 2.0,
        *,
        retries: int = 3,
        backoff_s: float = 0.2,
        table: str = TABLE,
        max_buffered: int | None = None,
        bulk: bool = False,
    ) -> None:
        if batch_size < 1 or flush_interval_s <= 0 or retries < 0:
            raise InvalidInputError("batch_size >= 1, flush_interval_s > 0 and retries >= 0 are required")
        # Backpressure: `add` waits while this many rows are waiting (a writer far behind a fast
        # backtest must not hold its whole output in memory, nor leave the user waiting after it).
        self.max_buffered = max(batch_size, max_buffered or 20 * batch_size)
        # A finished run's rows (a backtest) go in bulk: one columnar file locally, one load job on
        # BigQuery; a live session's rows keep the low-latency path (streaming inserts).
        self._insert_rows = warehouse.insert_batch if bulk else warehouse.insert_rows
        self.warehouse = warehouse
        self.spill_dir = Path(spill_dir)
        self.spill_dir.mkdir(parents=True, exist_ok=True)
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.table = table
        self.recorded = self.written = self.spilled = self.replayed = self.rejected = 0
        self._buffer: list[Mapping[str, Any]] = []
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()  # one writer at a time: the flusher or flush()/close()
        self._closed = False
        self._spill_seq = 0
        self._thread = threading.Thread(target=self._run, name="fmel-recorder", daemon=True)
        self._thread.start()

    def add(self, row: Mapping[str, Any]) -> None:
        """Queue one decision row; wakes the flusher when a batch is full."""
        with self._cond:
            if self._closed:
                raise InvalidInputError("the FMEL recorder is closed")
            while len(self._buffer) >= self.max_buffered and not self._closed:
                self._cond.notify_all()
                self._cond.wait()
            self._buffer.append(row)
            self.recorded += 1
            if len(self._buffer) >= self.batch_size:
                self._cond.notify_all()

    def flush(self) -> None:
        """Write (or spill) every buffered row now, then replay spilled files if the write worked."""
        with self._cond:
            batch, self._buffer = self._buffer, []
        self._write(batch)

    def close(self) -> None:
        """Stop the flusher and write or spill everything still buffered; idempotent."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self._thread.join()
        self.flush()

    def stats(self) -> dict[str, int]:
        """Return the counters: recorded, written, spilled, replayed, rejected, pending."""
        with self._cond:
            pending = len(self._buffer)
        return {
            "recorded": self.recorded,
            "written": self.written,
            "spilled": self.spilled,
            "replayed": self.replayed,
            "rejected": self.rejected,
            "pending": pending,
        }

    def spill_files(self) -> list[Path]:
        """Return the spilled batches waiting for replay, oldest first.

        A batch another process had claimed for replay (`.replaying-<pid>`) counts again once
        that process is gone: it was killed mid-replay, and its rows are still owed.
        """
        files = list(self.spill_dir.glob("*.jsonl"))
        for claimed in self.spill_dir.glob("*.jsonl.replaying-*"):
            pid = claimed.name.rsplit("-", 1)[-1]
            if pid.isdigit() and not _alive(int(pid)):
                original = claimed.with_name(claimed.name.split(".replaying-")[0])
                try:
                    claimed.rename(original)
                    files.append(original)
                except FileNotFoundError:
                    continue  # another recorder took it back first
        return sorted(files)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        self._replay()  # batches a previous process spilled
        deadline = time.monotonic() + self.flush_interval_s
        while True:
            with self._cond:
                while not self._closed and len(self._buffer) < self.batch_size:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                if self._closed:
                    return  # close() writes the rest on its own thread
                batch, self._buffer = self._buffer, []
                self._cond.notify_all()  # room again for a writer waiting in `add`
            deadline = time.monotonic() + self.flush_interval_s
            if batch:
                self._write(batch)
            elif self.spill_files():
                self._replay()

    def _write(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        with self._write_lock:
            ok = True
            for start in range(0, len(rows), self.batch_size):
                chunk = rows[start : start + self.batch_size]
                if not ok or not self._insert(chunk):
                    ok = False
                    self._spill(chunk)
                else:
                    self.written += len(chunk)
            if ok:
                self._replay_locked()

    def _insert(self, rows: Sequence[Mapping[str, Any]]) -> bool:
        """Insert with retries; False when the warehouse is still failing (the caller spills)."""
        for attempt in range(self.retries + 1):
            try:
                self._insert_rows(self.table, rows)
                return True
            except PERMANENT_ERRORS as exc:
                self._reject(rows, exc)
                return True  # handled: never retried, never replayed
            except Exception as exc:  # noqa: BLE001 - any other failure may pass; retry then spill
                log.warning("FMEL write of %d rows failed (attempt %d): %s", len(rows), attempt + 1, exc)
                if attempt < self.retries:
                    time.sleep(self.backoff_s * 2**attempt)
        return False

    def _reject(self, rows: Sequence[Mapping[str, Any]], exc: Exception) -> None:
        log.error("FMEL rows rejected by the warehouse, kept in %s: %s", self.spill_dir, exc)
        self.rejected += len(rows)
        self._dump(rows, "rejected")

    def _spill(self, rows: Sequence[Mapping[str, Any]]) -> None:
        path = self._dump(rows, "jsonl")
        self.spilled += len(rows)
        log.warning("FMEL warehouse unavailable: spilled %d rows to %s", len(rows), path)

    def _dump(self, rows: Sequence[Mapping[str, Any]], suffix: str) -> Path:
        self._spill_seq += 1
        # Names sort by creation time, so replay goes oldest first.
        name = f"{time.time_ns():020d}-{os.getpid()}-{self._spill_seq:06d}.{suffix}"
        tmp = self.spill_dir / f".{name}.tmp"
        with tmp.open("w", encoding="utf-8") as out:
            out.writelines(row_to_json(dict(row)) + "\n" for row in rows)
            out.flush()
            os.fsync(out.fileno())
        path = self.spill_dir / name
        os.replace(tmp, path)  # a reader never sees half a file
        return path

    def _replay(self) -> None:
        with self._write_lock:
            self._replay_locked()

    def _replay_locked(self) -> None:
        for path in self.spill_files():
            claimed = path.with_name(f"{path.name}.replaying-{os.getpid()}")
            try:
                path.rename(claimed)  # another recorder on the same directory may race us
            except FileNotFoundError:
                continue
            rows = [row_from_json(line) for line in claimed.read_text(encoding="utf-8").splitlines() if line]
            if not self._insert(rows):
                claimed.rename(path)
                return
            claimed.unlink()
            self.replayed += len(rows)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def replay_spills(warehouse: Warehouse, root: Path) -> int:
    """Replay every spill folder under `root` (rows of jobs and runtimes that ended before
    their warehouse came back); return the rows written. `farm up` calls it at start."""
    total = 0
    for folder in sorted(p for p in Path(root).glob("*") if p.is_dir()):
        recorder = FmelRecorder(warehouse, folder)
        recorder.close()  # its flusher replays the folder first thing; close waits for it
        total += recorder.replayed
    return total
