"""Merge a local warehouse's small segments off the caller's thread.

Appends leave one small segment each; merging them keeps queries fast. Writers and readers only
ask for a table to be merged: one daemon thread per warehouse merges the tables asked for, until
none is left, then ends (the next request starts another). A failed merge loses nothing: its
sources stay visible and the next request merges them.
"""

from __future__ import annotations

import logging
import threading

from shared.schemas import warehouse as schema

from .warehouse_segments import SegmentStore

log = logging.getLogger(__name__)


class BackgroundCompactor:
    """Merge the segments of the tables asked for on one background thread (or at once)."""

    def __init__(self, store: SegmentStore, *, background: bool = True) -> None:
        self.store = store
        self.background = background
        self._lock = threading.Lock()
        self._pending: set[str] = set()
        self._thread: threading.Thread | None = None

    def request(self, spec: schema.Table) -> None:
        """Merge `spec`'s small segments: soon on the thread, or now when not in the background."""
        if not self.background:
            self.store.compact(spec)
            return
        with self._lock:
            self._pending.add(spec.ref)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="warehouse-compactor", daemon=True)
                self._thread.start()

    def join(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for a running merge to finish."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout=timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._thread = None
                    return
                ref = self._pending.pop()
            try:
                while self.store.compact(schema.table(ref)):
                    pass
            except Exception:  # a failed merge loses nothing; the next one retries
                log.exception("warehouse: compacting %s failed", ref)
