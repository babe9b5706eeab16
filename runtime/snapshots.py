"""Write a runtime's portfolio snapshots to `analytics.paper_snapshots` in batches (SPEC §9, §11).

The paper leaderboard reads that table. The heartbeat produces a snapshot every few seconds;
writing each one would be a warehouse insert per heartbeat per agent, so they are buffered and
written every `flush_s` seconds (and on close). A failed write keeps the batch for the next
try; the buffer is bounded so a long outage cannot grow it without limit.
"""

from __future__ import annotations

import logging
import threading
import time

from shared.ports.warehouse import Warehouse
from shared.schemas.messages import PortfolioSnapshotted
from shared.services.paper_snapshots import record_snapshots

log = logging.getLogger(__name__)


class SnapshotWriter:
    """Buffer snapshots and write them to the warehouse every `flush_s` seconds."""

    def __init__(self, warehouse: Warehouse, *, flush_s: float = 10.0, max_buffered: int = 5000) -> None:
        self.warehouse = warehouse
        self.flush_s = flush_s
        self.max_buffered = max_buffered
        self.written = self.dropped = self.failures = 0
        self._buffer: list[PortfolioSnapshotted] = []
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()

    def add(self, snapshot: PortfolioSnapshotted) -> None:
        """Buffer `snapshot`; write the batch when it is due or the snapshot is a session's last."""
        with self._lock:
            self._buffer.append(snapshot)
            overflow = len(self._buffer) - self.max_buffered
            if overflow > 0:  # keep the newest: the leaderboard ranks on the latest values
                del self._buffer[:overflow]
                self.dropped += overflow
        if snapshot.final or time.monotonic() - self._last_flush >= self.flush_s:
            self.flush()

    def flush(self) -> bool:
        """Write what is buffered now; False (batch kept) when the warehouse failed."""
        with self._lock:
            batch, self._buffer = self._buffer, []
            self._last_flush = time.monotonic()
            if not batch:
                return True
            try:
                self.written += record_snapshots(batch, warehouse=self.warehouse)
                return True
            except Exception:
                self.failures += 1
                log.warning("could not write %d portfolio snapshots; keeping them for the next try", len(batch),
                            exc_info=True)
                self._buffer = batch + self._buffer
                return False

    def stats(self) -> dict[str, int]:
        """Counters for the session document."""
        with self._lock:
            return {"written": self.written, "buffered": len(self._buffer), "dropped": self.dropped,
                    "failures": self.failures}
