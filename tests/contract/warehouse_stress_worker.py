"""Worker processes of the warehouse stress test: `writer` and `reader` (run as scripts).

    python tests/contract/warehouse_stress_worker.py writer PATH NAME ACKS THREADS
    python tests/contract/warehouse_stress_worker.py reader PATH STOPFILE

A writer's threads insert decisions, bars and snapshots in batches of random size through all
three forms of the API (rows, a dict of columns, an Arrow table) and, after each call returns,
append `table key-prefix count` to ACKS with one write(2) (O_APPEND: lines never interleave).
A reader queries every table until STOPFILE exists and exits 1 (printing why) if it ever sees a
key twice or a count go down.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import pyarrow as pa

from shared.adapters.local.warehouse import DuckDbWarehouse

T0 = datetime(2024, 1, 1, tzinfo=UTC)
KEYS = {"fmel.decisions": "decision_id", "market_data.bars": "data_hash",
        "analytics.paper_snapshots": "session_id"}


def open_warehouse(path: str) -> DuckDbWarehouse:
    """The warehouse as the stress test configures it: merges early and often."""
    return DuckDbWarehouse(Path(path), compact_at=4, grace_s=0.5)


def rows(table: str, prefix: str, n: int) -> list[dict]:
    """`n` rows of `table` whose keys are `prefix-0` ... `prefix-(n-1)`."""
    out: list[dict] = []
    for i in range(n):
        key, at = f"{prefix}-{i}", T0 + timedelta(minutes=random.randrange(10_000))
        if table == "fmel.decisions":
            out.append({"decision_id": key, "agent_id": "a", "user_id": "u", "session_id": prefix,
                        "mode": "paper", "decision_point": i, "bar_time": at, "recorded_at": at,
                        "stage": "next", "action": "TRADED",
                        "actions": [{"seq": 1, "side": "buy", "symbol": "AAPL", "size": 1.0}],
                        "data_accessed": [{"symbol": "AAPL", "data_hash": key, "fields": ["close"],
                                           "reads": [{"seq": 1, "field": "close", "index": 0}]}],
                        "access_count": 1, "portfolio_value": 1.0, "cash": 1.0,
                        "positions": [{"symbol": "AAPL", "size": 1.0, "price": 2.0, "value": 2.0}]})
        elif table == "market_data.bars":
            out.append({"symbol": "AAPL", "timeframe": "1Min", "timestamp": at, "open": 1.0,
                        "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0, "source": "stress",
                        "data_hash": key})
        else:
            out.append({"session_id": key, "agent_id": "a", "user_id": "u", "timestamp": at,
                        "portfolio_value": 1.0, "cash": 1.0, "positions": []})
    return out


def write(path: str, name: str, acks: str, threads: int) -> None:
    """Insert forever (until killed), acknowledging each returned call."""
    warehouse = open_warehouse(path)
    fd = os.open(acks, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    ready = Path(f"{acks}.ready.{name}")

    def loop(thread: int) -> None:
        try:
            insert(thread)
        except BaseException:  # noqa: BLE001 - a writer failing on its own fails the test
            traceback.print_exc()
            os._exit(3)

    def insert(thread: int) -> None:
        for seq in range(10**9):
            table = random.choice(list(KEYS))
            prefix, n = f"{name}.{thread}.{seq}", random.randint(1, 200)
            batch = rows(table, prefix, n)
            form = seq % 3
            if form == 0:
                warehouse.insert_rows(table, batch)
            elif form == 1:
                warehouse.insert_batch(table, {k: [r.get(k) for r in batch] for k in batch[0]})
            else:
                warehouse.insert_batch(table, pa.Table.from_pylist(batch))
            os.write(fd, f"{table} {prefix} {n}\n".encode())
            if seq == 2:
                ready.touch()  # the test kills only writers that have acknowledged some calls

    workers = [threading.Thread(target=loop, args=(t,), daemon=True) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def read(path: str, stopfile: str) -> int:
    """Query until STOPFILE appears; 1 when a key was seen twice or a count went down."""
    warehouse = open_warehouse(path)
    last = dict.fromkeys(KEYS, 0)
    queries = 0
    while not os.path.exists(stopfile):
        for table, key in KEYS.items():
            got = warehouse.query(f"SELECT COUNT(*) AS n, COUNT(DISTINCT {key}) AS d FROM {table}")[0]
            queries += 1
            if got["n"] != got["d"]:
                print(f"{table}: {got['n']} rows but {got['d']} keys", flush=True)
                return 1
            if got["n"] < last[table]:
                print(f"{table}: count went down from {last[table]} to {got['n']}", flush=True)
                return 1
            last[table] = got["n"]
    print(f"queries {queries}", flush=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "writer":
        write(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        sys.exit(read(sys.argv[2], sys.argv[3]))
