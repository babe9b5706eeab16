"""Warehouse bulk inserts beside the same rows as one Arrow table into DuckDB (`make bench`).

Each round inserts the same rows through the adapter (`insert_rows` with dicts, and
`insert_batch` with a dict of columns) and, as the reference, builds one Arrow table from the
dicts with the table's schema and inserts it into a DuckDB file through a connection kept
open. Rounds alternate so a busy machine slows all paths alike; the best round of each counts.
The adapter's figure includes validation, the fsync of its segment and the directory.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from shared.adapters.local.warehouse import DuckDbWarehouse
from shared.adapters.local.warehouse_arrow import arrow_schema
from shared.schemas import warehouse as schema
from shared.sql.ddl import duckdb_ddl, quote

T0 = datetime(2024, 1, 1, tzinfo=UTC)
ROWS = 100_000
ROUNDS = 5
TARGET = 1.5  # the adapter within 1.5x the time of one Arrow table into DuckDB


def bars(n: int) -> list[dict]:
    return [{"symbol": f"S{i % 50}", "timeframe": "1Min", "timestamp": T0 + timedelta(minutes=i),
             "open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "volume": 100.0, "trade_count": 3,
             "vwap": 1.2, "source": "synthetic", "data_hash": f"h{i}", "ingested_at": T0}
            for i in range(n)]


def decisions(n: int) -> list[dict]:
    return [{"decision_id": f"d{i}", "agent_id": "a1", "user_id": "u1", "session_id": "s1",
             "mode": "backtest", "decision_point": i, "bar_time": T0 + timedelta(minutes=i),
             "recorded_at": T0, "stage": "next", "action": "TRADED",
             "actions": [{"seq": 1, "side": "buy", "symbol": "AAPL", "size": 1.0, "price": 10.0,
                          "order_type": "market", "order_id": f"o{i}", "status": "submitted"}],
             "data_accessed": [{"symbol": "AAPL", "data_hash": f"h{i}", "fields": ["close", "open"],
                                "reads": [{"seq": 1, "field": "close", "index": 0, "value": 10.25},
                                          {"seq": 2, "field": "open", "index": -1, "value": 10.0}]}],
             "access_count": 2, "portfolio_value": 25_000.0, "cash": 24_990.0,
             "positions": [{"symbol": "AAPL", "size": 1.0, "price": 10.0, "value": 10.0}],
             "indicators": [{"name": "SMA", "params": "period=10", "line": "sma", "input": "AAPL close",
                             "index": 0, "value": 10.1}],
             "note": '{"signal":0.73}'}
            for i in range(n)]


def side_by_side(tmp_path: Path, spec: schema.Table, rows: list[dict]) -> dict[str, float]:
    """Best rows/s of each path over interleaved rounds."""
    wh = DuckDbWarehouse(tmp_path / "warehouse.duckdb", compact_in_background=False, compact_at=10**6)
    wh.ensure_tables()
    reference = duckdb.connect(str(tmp_path / "reference.duckdb"))
    for statement in duckdb_ddl(spec):
        reference.execute(statement)
    target = f"{quote(spec.dataset)}.{quote(spec.name)}"
    columns = {c.name: [r.get(c.name) for r in rows] for c in spec.columns}

    def arrow_into_duckdb() -> None:
        batch = pa.Table.from_pylist(rows, schema=arrow_schema(spec))
        reference.register("batch", batch)
        reference.execute(f"INSERT INTO {target} SELECT * FROM batch")
        reference.unregister("batch")

    paths: dict[str, Callable[[], None]] = {
        "arrow table into duckdb": arrow_into_duckdb,
        "adapter insert_rows": lambda: wh.insert_rows(spec.ref, rows),
        "adapter insert_batch(columns)": lambda: wh.insert_batch(spec.ref, columns),
    }
    best = dict.fromkeys(paths, float("inf"))
    for _ in range(ROUNDS):
        for name, run in paths.items():
            started = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - started)
    stored = wh.query(f"SELECT COUNT(*) AS n FROM {spec.ref}")[0]["n"]
    assert stored == 2 * ROUNDS * len(rows)
    reference.close()
    return {name: len(rows) / seconds for name, seconds in best.items()}


def report(spec: schema.Table, rates: dict[str, float]) -> float:
    reference = rates["arrow table into duckdb"]
    print(f"\n{spec.ref}, {ROWS:,} rows per call, best of {ROUNDS} interleaved rounds:")
    for name, rate in rates.items():
        print(f"  {name:32s} {rate:>10,.0f} rows/s  ({reference / rate:.2f}x the Arrow time)")
    return reference / rates["adapter insert_rows"]


@pytest.mark.benchmark
def test_bars_insert_within_1_5x_of_one_arrow_table_into_duckdb(tmp_path: Path) -> None:
    ratio = report(schema.BARS, side_by_side(tmp_path, schema.BARS, bars(ROWS)))
    assert ratio <= TARGET


@pytest.mark.benchmark
def test_nested_decisions_insert_within_1_5x_of_one_arrow_table_into_duckdb(tmp_path: Path) -> None:
    ratio = report(schema.DECISIONS, side_by_side(tmp_path, schema.DECISIONS, decisions(ROWS)))
    assert ratio <= TARGET


@pytest.mark.benchmark
def test_day_range_query_on_a_million_bars_is_fast(tmp_path: Path) -> None:
    wh = DuckDbWarehouse(tmp_path / "w.duckdb")
    wh.ensure_tables()
    for _ in range(10):
        wh.insert_rows("market_data.bars", bars(100_000))
    sql = ("SELECT symbol, AVG(close) AS c FROM market_data.bars WHERE DATE(timestamp) = @day "
           "AND symbol IN UNNEST(@symbols) GROUP BY symbol")
    params = {"day": (T0 + timedelta(days=3)).date(), "symbols": ["S1", "S2"]}
    wh.query(sql, params)
    started = time.perf_counter()
    rows = wh.query(sql, params)
    elapsed = time.perf_counter() - started
    print(f"\nday filter over 1,000,000 bars in 10 segments: {elapsed * 1000:.1f} ms")
    assert len(rows) == 2 and elapsed < 0.5
