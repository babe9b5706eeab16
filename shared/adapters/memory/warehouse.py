"""ScratchWarehouse: the embedded DuckDB warehouse in a temporary directory removed on close.

A warehouse is SQL, so its fake is the real embedded engine, only with nothing left behind: an
in-memory application gets a private one, with every table created.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from shared.adapters.local.warehouse import DuckDbWarehouse


class ScratchWarehouse(DuckDbWarehouse):
    """A DuckDbWarehouse of its own temporary directory, tables created, deleted on close."""

    def __init__(self) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix="farm-scratch-warehouse-")
        super().__init__(Path(self._scratch.name) / "warehouse.duckdb", compact_in_background=False)
        self.ensure_tables()

    def close(self) -> None:
        """Close the engine, then delete its directory."""
        super().close()
        self._scratch.cleanup()
