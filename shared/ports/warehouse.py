"""Warehouse port: BigQuery-shaped datasets and tables, one SQL dialect."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class Warehouse(Protocol):
    """Append-mostly analytical tables queried with BigQuery SQL and named parameters.

    Tables are named `dataset.table` (e.g. `fmel.decisions`) and defined in
    `shared.schemas.warehouse`. SQL is written once in BigQuery's dialect with `@name`
    parameters; adapters that speak another dialect translate it. Values are never
    interpolated into SQL text.
    """

    def ensure_tables(self) -> None:
        """Create every dataset and table of the schema that does not exist yet."""
        ...

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Append rows (dicts keyed by column) to `table`; unknown columns are an error."""
        ...

    def insert_batch(self, table: str, batch: Any) -> None:
        """Append a finished batch at once: rows, a dict of equal-length columns, or a pyarrow.Table.

        Columnar and validated like `insert_rows`. The local warehouse writes it as one segment;
        BigQuery loads it with a load job (no streaming-insert quota or cost), so use it for
        whole batches such as a backtest's decisions and keep `insert_rows` for live rows.
        """
        ...

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a parameterised BigQuery-dialect query and return rows as dicts."""
        ...

    def close(self) -> None:
        """Release the warehouse's connections and files (the application calls it once, at the end)."""
        ...
