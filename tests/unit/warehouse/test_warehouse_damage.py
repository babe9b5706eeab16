"""A damaged warehouse file is named at start with the way out; earlier DuckDB files migrate."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from farm.cli import main
from shared.adapters.local.warehouse import DuckDbWarehouse, WarehouseDamagedError
from shared.schemas.warehouse import BARS, DECISIONS
from shared.sql.ddl import duckdb_ddl

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def bars(symbol: str, n: int) -> list[dict[str, object]]:
    return [{"symbol": symbol, "timeframe": "1Day", "timestamp": T0 + timedelta(days=i), "open": 1.0,
             "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0, "source": "synthetic",
             "data_hash": f"{symbol}-{i}"} for i in range(n)]


@pytest.fixture
def damaged(tmp_path: Path) -> tuple[Path, Path]:
    """A data directory whose warehouse has three segments, the second truncated mid-file."""
    path = tmp_path / "warehouse.duckdb"
    wh = DuckDbWarehouse(path)
    wh.ensure_tables()
    for symbol in ("A", "B", "C"):
        wh.insert_rows("market_data.bars", bars(symbol, 10))
    segment = sorted((wh.root / "market_data" / "bars").glob("s-*.parquet"))[1]
    with open(segment, "r+b") as f:
        f.truncate(segment.stat().st_size // 2)
    return path, segment


def test_a_truncated_segment_is_named_at_open_with_the_command_that_recovers(damaged) -> None:
    path, segment = damaged
    with pytest.raises(WarehouseDamagedError) as caught:
        DuckDbWarehouse(path).ensure_tables()
    assert str(segment) in caught.value.message and "farm data repair" in caught.value.message
    with pytest.raises(WarehouseDamagedError, match=segment.name):
        DuckDbWarehouse(path).query("SELECT COUNT(*) AS n FROM market_data.bars")


def test_farm_up_on_a_damaged_warehouse_says_what_to_do_without_a_traceback(damaged) -> None:
    path, segment = damaged
    env = {k: v for k, v in os.environ.items() if not k.startswith("FARM_")}
    env["FARM_DATA_DIR"] = str(path.parent)
    done = subprocess.run([sys.executable, "-m", "farm", "up", "--no-market-data", "--port", "0"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert str(segment) in done.stderr and "farm data repair" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_farm_data_repair_moves_the_damaged_segment_aside_and_keeps_the_rest(
        damaged, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    path, segment = damaged
    monkeypatch.setenv("FARM_DATA_DIR", str(path.parent))
    assert main(["data", "repair"]) == 0
    assert segment.name in capsys.readouterr().out and not segment.exists()
    wh = DuckDbWarehouse(path)
    wh.ensure_tables()
    assert wh.query("SELECT symbol, COUNT(*) AS n FROM market_data.bars GROUP BY symbol ORDER BY symbol") == [
        {"symbol": "A", "n": 10}, {"symbol": "C", "n": 10}]
    assert (wh.root / "damaged" / "market_data.bars" / segment.name).exists()


def test_a_damaged_duckdb_file_of_an_earlier_version_is_named_with_the_way_out(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    legacy = duckdb.connect(str(path))
    for statement in duckdb_ddl(BARS):
        legacy.execute(statement)
    legacy.close()
    with open(path, "r+b") as f:  # what a torn checkpoint left behind: garbage in the header
        f.seek(0)
        f.write(os.urandom(8192))
    with pytest.raises(WarehouseDamagedError) as caught:
        DuckDbWarehouse(path).ensure_tables()
    assert f"mv {path} {path}.damaged" in caught.value.message and "farm up" in caught.value.message


def test_an_earlier_duckdb_warehouse_is_migrated_once_into_segments(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    legacy = duckdb.connect(str(path))
    for spec in (BARS, DECISIONS):
        for statement in duckdb_ddl(spec):
            legacy.execute(statement)
    legacy.execute("INSERT INTO market_data.bars (symbol, timeframe, timestamp, open, high, low, close, volume, "
                   "source, data_hash) SELECT 'OLD', '1Day', TIMESTAMPTZ '2024-01-01 00:00:00+00' + "
                   "INTERVAL (i) DAY, 1, 1, 1, 1, 1, 'synthetic', 'h' || i FROM range(5) t(i)")
    legacy.close()
    wh = DuckDbWarehouse(path)
    wh.ensure_tables()
    wh.ensure_tables()
    assert not path.exists() and path.with_name(path.name + ".migrated").exists()
    assert wh.query("SELECT COUNT(*) AS n, MIN(timestamp) AS t FROM market_data.bars") == [{"n": 5, "t": T0}]
    assert wh.query("SELECT COUNT(*) AS n FROM fmel.decisions") == [{"n": 0}]


def test_a_damaged_merged_segment_is_named_and_repair_brings_back_its_sources(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    wh = DuckDbWarehouse(path, compact_in_background=False, compact_at=1000)
    wh.ensure_tables()
    for symbol in ("A", "B", "C"):
        wh.insert_rows("market_data.bars", bars(symbol, 10))
    assert wh.compact() == 3
    merged = next((wh.root / "market_data" / "bars").glob("m-*.parquet"))
    merged.write_bytes(merged.read_bytes()[:100])  # torn by the disk, not by us: renames are atomic
    with pytest.raises(WarehouseDamagedError, match=merged.name):
        DuckDbWarehouse(path).ensure_tables()
    assert [p.name for p in DuckDbWarehouse(path).repair()] == [merged.name]
    # Its sources were still inside the grace period: every row is back, once.
    fresh = DuckDbWarehouse(path)
    fresh.ensure_tables()
    assert fresh.query("SELECT COUNT(*) AS n, COUNT(DISTINCT data_hash) AS d FROM market_data.bars") == [
        {"n": 30, "d": 30}]
