"""The local warehouse under stress: writers killed with SIGKILL while others write and query.

Three writer processes of two threads each insert decisions, bars and paper snapshots (merging
segments in the background as they go); two reader processes query every table all the while;
every few hundred milliseconds a random writer is killed with SIGKILL and replaced. Afterwards
every acknowledged row is present exactly once, readers never saw a row twice or a count go
down, and a fresh open as `farm up` does it (`ensure_tables`) succeeds.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.contract.warehouse_stress_worker import KEYS, open_warehouse

WORKER = Path(__file__).with_name("warehouse_stress_worker.py")
KILLS = 10
DEADLINE_S = 45.0  # a bound for a very busy machine; on 2 idle cores it takes ~15 s


def start(*args: str) -> subprocess.Popen[str]:
    """Start a worker process (a writer says it has begun by its ready file)."""
    return subprocess.Popen([sys.executable, str(WORKER), *args], stdout=subprocess.PIPE, text=True)


def test_killed_writers_lose_no_acknowledged_row_and_duplicate_none(tmp_path: Path) -> None:
    path, acks, stop = tmp_path / "warehouse.duckdb", tmp_path / "acks.txt", tmp_path / "stop"
    open_warehouse(str(path)).ensure_tables()
    rng = random.Random(14)
    readers = [start("reader", str(path), str(stop)) for _ in range(2)]
    writers: dict[str, subprocess.Popen[str]] = {}
    serial = itertools.count(1)

    def replace(name: str | None = None) -> None:
        if name is not None:
            victim = writers.pop(name)
            assert victim.poll() is None, f"writer {name} exited on its own: {victim.returncode}"
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait(timeout=10)
        name = f"w{next(serial)}"
        writers[name] = start("writer", str(path), name, str(acks), "2")

    kills, deadline = 0, time.monotonic() + DEADLINE_S
    for _ in range(3):
        replace()
    try:
        while kills < KILLS and time.monotonic() < deadline:
            time.sleep(rng.uniform(0.1, 0.5))  # a random moment, not a wait for a condition
            begun = [n for n in writers if Path(f"{acks}.ready.{n}").exists()]
            if begun:
                replace(rng.choice(begun))
                kills += 1
    finally:
        alive = {name: proc.poll() for name, proc in writers.items()}
        for proc in writers.values():
            proc.kill()
            proc.wait(timeout=10)
        stop.touch()
    assert set(alive.values()) == {None}, f"writers exited on their own: {alive}"
    outcomes = [(r.wait(timeout=30), r.stdout.read() if r.stdout else "") for r in readers]
    assert all(code == 0 for code, _ in outcomes), outcomes

    warehouse = open_warehouse(str(path))
    warehouse.ensure_tables()  # what `farm up` runs first: checks every segment is whole
    acked: dict[str, set[str]] = {table: set() for table in KEYS}
    for line in acks.read_text().splitlines():
        table, prefix, n = line.split()
        acked[table].update(f"{prefix}-{i}" for i in range(int(n)))
    for table, key in KEYS.items():
        stored = Counter(r["k"] for r in warehouse.query(f"SELECT {key} AS k FROM {table}"))
        twice = [k for k, n in stored.items() if n > 1]
        assert not twice, f"{table}: {len(twice)} keys stored more than once, e.g. {twice[:3]}"
        lost = acked[table] - stored.keys()
        assert not lost, f"{table}: {len(lost)} acknowledged keys lost, e.g. {sorted(lost)[:3]}"
        assert len(acked[table]) > 100
    merged = [p for p in warehouse.root.rglob("m-*.parquet")]
    assert kills >= KILLS and merged, (kills, len(merged))
    torn = list(warehouse.root.rglob(".tmp-*"))  # files a kill interrupted: never visible
    print(f"\n{kills} writers killed, {sum(map(len, acked.values()))} acknowledged rows, "
          f"{len(merged)} merged segments, {len(torn)} torn temporaries, readers {outcomes}")
