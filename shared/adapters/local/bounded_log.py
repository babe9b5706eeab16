"""BoundedLog: copy a child's output into a log file, never more than a cap.

A job or runtime prints what it likes; the platform keeps at most `cap_bytes` of it per run.
Past the cap the pump keeps reading (a child blocked on a full pipe would stall) and counts
what it drops, and the log ends with one line saying the cap was reached and by how much.
"""

from __future__ import annotations

import os
import select
import threading
from pathlib import Path
from typing import IO

DEFAULT_CAP_BYTES = 1 << 20
_CHUNK = 1 << 16


class BoundedLog:
    """Pump a pipe into `path` (appending), keeping the first `cap_bytes` of this run."""

    def __init__(self, source: IO[bytes], path: Path, cap_bytes: int = DEFAULT_CAP_BYTES) -> None:
        self.path, self.cap_bytes = path, cap_bytes
        self.kept = 0
        self.dropped = 0
        self._source = source
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, name=f"log-{path.name}", daemon=True)
        self._thread.start()

    @property
    def capped(self) -> bool:
        """True once output was dropped."""
        return self.dropped > 0

    def note(self) -> str:
        """Say the cap was reached and how much was dropped ("" when nothing was)."""
        if not self.capped:
            return ""
        return f"output capped at {self.cap_bytes} bytes: {self.dropped} bytes dropped"

    def finish(self, timeout_s: float = 5.0) -> None:
        """Wait for the end of the output; stop after `timeout_s` if something still holds the
        pipe open (a descendant in another session), so the caller is never stuck."""
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()

    def _pump(self) -> None:
        fd = self._source.fileno()
        with open(self.path, "ab", buffering=0) as out:  # readable while the job runs
            try:
                while True:
                    ready, _, _ = select.select([fd], [], [], 0.2)
                    if not ready:
                        if self._stop.is_set():
                            break
                        continue
                    chunk = os.read(fd, _CHUNK)
                    if not chunk:
                        break
                    keep = chunk[: max(0, self.cap_bytes - self.kept)]
                    out.write(keep)
                    self.kept += len(keep)
                    self.dropped += len(chunk) - len(keep)
            finally:
                if self.capped:
                    out.write(f"\n[farm] {self.note()}\n".encode())
                self._source.close()
