"""Capture an agent process's output (print, logging, tracebacks) with a hard size cap."""

from __future__ import annotations

import os
import threading
from pathlib import Path

DEFAULT_OUTPUT_CAP = 256 * 1024


class CappedOutput:
    """Read a pipe into a file, keeping at most `cap` bytes and saying how much was dropped."""

    def __init__(self, path: Path, cap: int = DEFAULT_OUTPUT_CAP) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.cap = cap
        self.kept = self.dropped = 0
        self._read_fd, self.write_fd = os.pipe()
        self._thread = threading.Thread(target=self._pump, name="agent-output", daemon=True)
        self._thread.start()

    def close_writer(self) -> None:
        """Close this process's copy of the write end (the child holds its own)."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def finish(self, timeout_s: float = 10.0) -> str:
        """Wait for the writer to be gone; return the kept text (with the cap note, if reached)."""
        self.close_writer()
        self._thread.join(timeout_s)
        return self.text()

    def text(self) -> str:
        """The kept output, decoded leniently."""
        try:
            return self.path.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def _pump(self) -> None:
        with open(self.path, "wb") as out:
            while chunk := os.read(self._read_fd, 65536):
                room = self.cap - self.kept
                if room > 0:
                    out.write(chunk[:room])
                    self.kept += min(room, len(chunk))
                self.dropped += max(0, len(chunk) - max(room, 0))
            if self.dropped:
                out.write(f"\n[output cap of {self.cap} bytes reached: {self.dropped} more bytes dropped]\n".encode())
        os.close(self._read_fd)
