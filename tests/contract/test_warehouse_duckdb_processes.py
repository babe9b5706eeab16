"""DuckDbWarehouse shared by processes and threads: nothing lost, nothing twice, no lock waits."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections import Counter
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


MERGER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    sys.path.insert(0, os.getcwd())
    from tests.contract.test_warehouse_duckdb_processes import bars
    from shared.adapters.local.warehouse import DuckDbWarehouse

    # Appends and merges back to back, deleting replaced files at once (no grace period).
    wh = DuckDbWarehouse(Path(sys.argv[1]), compact_in_background=False, compact_at=2, grace_s=0.0)
    acks = os.open(sys.argv[3], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    for b in range(10**9):
        wh.insert_rows("market_data.bars", bars(sys.argv[2], b, 5))
        os.write(acks, f"{sys.argv[2]}-{b}\\n".encode())
        wh.compact()
    """
)


def test_a_merging_process_killed_at_random_moments_never_loses_or_duplicates_a_row(tmp_path: Path) -> None:
    import os
    import random
    import signal
    import time

    path, acks = tmp_path / "warehouse.duckdb", tmp_path / "acks"
    wh = DuckDbWarehouse(path, compact_in_background=False)
    wh.ensure_tables()
    rng = random.Random(7)
    for round_ in range(8):
        proc = subprocess.Popen([sys.executable, "-c", MERGER, str(path), f"K{round_}", str(acks)], cwd=ROOT)
        deadline = time.monotonic() + 60
        while f"K{round_}-3\n" not in (acks.read_text() if acks.exists() else ""):  # it merged a few times
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.3))  # then a random moment: mid-write, mid-rename, mid-delete
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        acked = {line for line in acks.read_text().split()}
        stored = wh.query("SELECT data_hash FROM market_data.bars")
        keys = [r["data_hash"] for r in stored]
        assert len(keys) == len(set(keys)), f"round {round_}: a row is stored twice"
        rows_per_batch = Counter(k.rsplit("-", 1)[0] for k in keys)
        lost = {batch for batch in acked if rows_per_batch[batch] != 5}
        assert not lost, f"round {round_}: acknowledged batches not whole: {sorted(lost)[:3]}"
    DuckDbWarehouse(path).ensure_tables()
