"""Warehouse bulk-insert throughput (run with `make bench`): flat bars and nested FMEL rows."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.adapters.local.warehouse import DuckDbWarehouse

T0 = datetime(2024, 1, 1, tzinfo=UTC)
BARS_PER_CALL = 50_000
DECISIONS_PER_CALL = 10_000


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
                                "reads": [{"seq": 1, "field": "close", "index": 0},
                                          {"seq": 2, "field": "open", "index": -1}]}],
             "access_count": 2, "portfolio_value": 25_000.0, "cash": 24_990.0,
             "positions": [{"symbol": "AAPL", "size": 1.0, "price": 10.0, "value": 10.0}]}
            for i in range(n)]


def best_rate(wh: DuckDbWarehouse, table: str, rows: list[dict], rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        wh.insert_rows(table, rows)
        best = min(best, time.perf_counter() - started)
    return len(rows) / best


@pytest.mark.benchmark
def test_duckdb_inserts_flat_bars_at_50k_rows_per_second(tmp_path: Path) -> None:
    wh = DuckDbWarehouse(tmp_path / "w.duckdb")
    wh.ensure_tables()
    rate = best_rate(wh, "market_data.bars", bars(BARS_PER_CALL))
    print(f"\nmarket_data.bars: {rate:,.0f} rows/s ({BARS_PER_CALL:,} rows per call)")
    assert wh.query("SELECT COUNT(*) AS n FROM market_data.bars") == [{"n": 3 * BARS_PER_CALL}]
    assert rate >= 50_000


@pytest.mark.benchmark
def test_duckdb_inserts_nested_decisions_at_5k_rows_per_second(tmp_path: Path) -> None:
    wh = DuckDbWarehouse(tmp_path / "w.duckdb")
    wh.ensure_tables()
    rate = best_rate(wh, "fmel.decisions", decisions(DECISIONS_PER_CALL))
    print(f"\nfmel.decisions: {rate:,.0f} rows/s ({DECISIONS_PER_CALL:,} rows per call)")
    assert rate >= 5_000


@pytest.mark.benchmark
def test_duckdb_day_range_query_on_a_million_bars_is_fast(tmp_path: Path) -> None:
    wh = DuckDbWarehouse(tmp_path / "w.duckdb")
    wh.ensure_tables()
    for _ in range(10):
        batch = bars(100_000)
        wh.insert_rows("market_data.bars", batch)
    sql = ("SELECT symbol, AVG(close) AS c FROM market_data.bars WHERE DATE(timestamp) = @day "
           "AND symbol IN UNNEST(@symbols) GROUP BY symbol")
    params = {"day": (T0 + timedelta(days=3)).date(), "symbols": ["S1", "S2"]}
    wh.query(sql, params)
    started = time.perf_counter()
    rows = wh.query(sql, params)
    elapsed = time.perf_counter() - started
    print(f"\nday filter over 1,000,000 bars: {elapsed * 1000:.1f} ms")
    assert len(rows) == 2 and elapsed < 0.5
