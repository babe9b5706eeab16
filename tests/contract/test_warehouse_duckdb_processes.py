"""DuckDbWarehouse shared by processes and threads: nothing lost, nothing twice, no lock waits."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.adapters.local.warehouse import DuckDbWarehouse
from shared.schemas.warehouse import BARS

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 1, 1, tzinfo=UTC)

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


def bars(writer: str, batch: int, size: int) -> list[dict[str, object]]:
    return [{"symbol": writer, "timeframe": "1Min", "timestamp": T0 + timedelta(minutes=batch * size + i),
             "open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0, "source": "synthetic",
             "data_hash": f"{writer}-{batch}-{i}"} for i in range(size)]


def test_three_processes_inserting_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"W{n}", "10", "100"], cwd=ROOT)
        for n in range(3)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    rows = DuckDbWarehouse(path).query(
        "SELECT symbol, COUNT(DISTINCT data_hash) AS n, COUNT(*) AS rows FROM market_data.bars "
        "GROUP BY symbol ORDER BY symbol"
    )
    assert rows == [{"symbol": f"W{n}", "n": 1000, "rows": 1000} for n in range(3)]


def test_threads_and_two_instances_in_one_process_write_and_read_at_once(tmp_path: Path) -> None:
    # Two instances on one path in one process collided before ("Unique file handle conflict").
    path = tmp_path / "warehouse.duckdb"
    first, second = DuckDbWarehouse(path, compact_at=4), DuckDbWarehouse(path, compact_at=4)
    first.ensure_tables()
    errors: list[BaseException] = []
    done = threading.Event()

    def write(wh: DuckDbWarehouse, name: str) -> None:
        try:
            for b in range(25):
                wh.insert_rows("market_data.bars", bars(name, b, 20))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    def read(wh: DuckDbWarehouse) -> None:
        try:
            while not done.is_set():
                got = wh.query("SELECT COUNT(*) AS n, COUNT(DISTINCT data_hash) AS d FROM market_data.bars")
                assert got[0]["n"] == got[0]["d"]
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(wh, f"T{n}")) for n, wh in enumerate([first, second] * 3)]
    readers = [threading.Thread(target=read, args=(wh,)) for wh in (first, second)]
    for thread in writers + readers:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    done.set()
    for thread in readers:
        thread.join(timeout=30)
    assert not errors, errors[:3]
    for wh in (first, second):
        assert wh.query("SELECT COUNT(*) AS n, COUNT(DISTINCT data_hash) AS d FROM market_data.bars") == [
            {"n": 3000, "d": 3000}]
    first.close()
    second.close()


def test_compaction_merges_segments_into_one_without_changing_the_rows(tmp_path: Path) -> None:
    wh = DuckDbWarehouse(tmp_path / "warehouse.duckdb", compact_in_background=False, compact_at=1000)
    wh.ensure_tables()
    for b in range(12):
        wh.insert_rows("market_data.bars", bars("A", b, 10))
    before = wh.query("SELECT * FROM market_data.bars ORDER BY data_hash")
    segments = list((wh.root / "market_data" / "bars").glob("s-*.parquet"))
    assert len(segments) == 12
    assert wh.compact() == 12
    assert [s.path.name[:2] for s in wh.store.visible(BARS)] == ["_s", "m-"]
    assert wh.query("SELECT * FROM market_data.bars ORDER BY data_hash") == before
    assert all(s.exists() for s in segments)  # kept for readers that listed them, for the grace period


def test_replaced_segments_are_deleted_after_the_grace_period_and_never_resurface(tmp_path: Path) -> None:
    wh = DuckDbWarehouse(tmp_path / "warehouse.duckdb", compact_in_background=False, compact_at=1000,
                         grace_s=0.0)
    wh.ensure_tables()
    for round_ in range(3):
        for b in range(4):
            wh.insert_rows("market_data.bars", bars(f"R{round_}", b, 5))
        wh.compact()  # merges earlier merged files too, then deletes what they replaced
    table = wh.root / "market_data" / "bars"
    wh.compact()
    assert not list(table.glob("s-*.parquet"))
    assert len(list(table.glob("m-*.parquet"))) == 1
    assert wh.query("SELECT COUNT(*) AS n, COUNT(DISTINCT data_hash) AS d FROM market_data.bars") == [
        {"n": 60, "d": 60}]
