"""Portfolio snapshots reach analytics.paper_snapshots in batches, once each, surviving a failed write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from runtime.snapshots import SnapshotWriter
from shared.adapters.local.warehouse import DuckDbWarehouse
from shared.schemas.messages import PortfolioSnapshotted
from shared.services.paper_snapshots import record_snapshot

T0 = datetime(2025, 1, 6, 14, 30, tzinfo=UTC)
COUNT_SQL = "SELECT COUNT(*) AS n FROM analytics.paper_snapshots WHERE session_id = @s"


def _snapshot(i: int, *, final: bool = False, session_id: str = "ps-1") -> PortfolioSnapshotted:
    return PortfolioSnapshotted(
        session_id=session_id, agent_id="agent-1", owner_uid="alice", timestamp=(T0 + timedelta(seconds=i)).isoformat(),
        portfolio_value=25_000.0 + i, cash=20_000.0, starting_value=25_000.0, trades=i,
        positions=[{"symbol": "AAPL", "size": 10.0, "price": 100.0, "value": 1000.0 + i}], final=final,
    )


def _count(warehouse: DuckDbWarehouse, session_id: str = "ps-1") -> int:
    return int(warehouse.query(COUNT_SQL, {"s": session_id})[0]["n"])


def test_snapshots_are_buffered_until_due_and_the_final_one_flushes_the_batch(tmp_path: Path) -> None:
    warehouse = DuckDbWarehouse(tmp_path / "w.duckdb")
    warehouse.ensure_tables()
    writer = SnapshotWriter(warehouse, flush_s=3600)
    for i in range(5):
        writer.add(_snapshot(i))
    assert _count(warehouse) == 0 and writer.stats()["buffered"] == 5
    writer.add(_snapshot(5, final=True))
    assert _count(warehouse) == 6 and writer.stats() == {"written": 6, "buffered": 0, "dropped": 0, "failures": 0}
    row = warehouse.query("SELECT * FROM analytics.paper_snapshots WHERE session_id = @s ORDER BY timestamp DESC",
                          {"s": "ps-1"})[0]
    assert row["portfolio_value"] == 25_005.0 and row["positions"][0]["symbol"] == "AAPL"


def test_a_snapshot_the_performance_function_already_stored_is_not_written_again(tmp_path: Path) -> None:
    warehouse = DuckDbWarehouse(tmp_path / "w.duckdb")
    warehouse.ensure_tables()
    assert record_snapshot(_snapshot(1), warehouse=warehouse)  # the function got there first
    writer = SnapshotWriter(warehouse, flush_s=0)
    writer.add(_snapshot(1))
    writer.add(_snapshot(2))
    writer.add(_snapshot(2))  # a repeat inside one batch
    assert _count(warehouse) == 2
    assert not record_snapshot(_snapshot(2), warehouse=warehouse)  # and the function skips the runtime's


def test_a_failed_write_keeps_the_batch_for_the_next_flush(tmp_path: Path) -> None:
    warehouse = DuckDbWarehouse(tmp_path / "w.duckdb")  # no tables yet: every write fails
    writer = SnapshotWriter(warehouse, flush_s=3600, max_buffered=4)
    for i in range(6):
        writer.add(_snapshot(i))
    assert writer.flush() is False
    assert writer.stats() == {"written": 0, "buffered": 4, "dropped": 2, "failures": 1}
    warehouse.ensure_tables()
    assert writer.flush() is True
    assert _count(warehouse) == 4 and writer.stats()["buffered"] == 0
