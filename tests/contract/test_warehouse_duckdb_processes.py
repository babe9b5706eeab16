"""DuckDbWarehouse shared by several processes on one machine: nothing lost, locks retried."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from shared.adapters.local.warehouse import DuckDbWarehouse
from shared.errors import TransientError

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timedelta, timezone
    from pathlib import Path
    from shared.adapters.local.warehouse import DuckDbWarehouse

    path, writer, batches, size = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    wh = DuckDbWarehouse(path)
    wh.ensure_tables()
    t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
    for b in range(batches):
        wh.insert_rows("market_data.bars", [
            {"symbol": writer, "timeframe": "1Min", "timestamp": t0 + timedelta(minutes=b * size + i),
             "open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0,
             "source": "synthetic", "data_hash": f"{writer}-{b}-{i}"}
            for i in range(size)
        ])
    """
)

HOLDER = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    """
)


def test_three_processes_inserting_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"W{n}", "10", "100"], cwd=ROOT)
        for n in range(3)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    rows = DuckDbWarehouse(path).query(
        "SELECT symbol, COUNT(DISTINCT data_hash) AS n FROM market_data.bars GROUP BY symbol ORDER BY symbol"
    )
    assert rows == [{"symbol": f"W{n}", "n": 1000} for n in range(3)]


def test_a_lock_held_too_long_is_a_transient_error(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    DuckDbWarehouse(path).ensure_tables()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), "5"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(TransientError, match="locked"):
            DuckDbWarehouse(path, lock_timeout_s=0.5).query("SELECT 1 AS one")
        assert time.monotonic() - started < 3
    finally:
        holder.kill()
        holder.wait()


def test_a_writer_waits_for_a_briefly_held_lock(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    DuckDbWarehouse(path).ensure_tables()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), "0.5"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        assert DuckDbWarehouse(path, lock_timeout_s=20).query("SELECT 1 AS one") == [{"one": 1}]
    finally:
        holder.kill()
        holder.wait()
