"""One contract for every warehouse: DuckDB always, BigQuery against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from shared.errors import InvalidInputError
from shared.ports import Warehouse
from shared.schemas.warehouse import DATASETS

T0 = datetime(2024, 3, 1, 14, 30, tzinfo=UTC)


@pytest.fixture(params=["duckdb", pytest.param("bigquery", marks=pytest.mark.emulator)])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    if request.param == "duckdb":
        from shared.adapters.local.warehouse import DuckDbWarehouse

        wh: Warehouse = DuckDbWarehouse(tmp_path / "warehouse.duckdb")
        wh.ensure_tables()
        yield wh
        return
    emulator = request.getfixturevalue("bigquery_emulator")
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials

    from shared.adapters.gcp.bigquery import BigQueryWarehouse

    bq = BigQueryWarehouse(
        emulator.project,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=emulator.endpoint),
    )
    bq.ensure_tables()
    yield bq
    for dataset in DATASETS:  # the emulator lives for the session: leave it empty
        bq.client.delete_dataset(f"{emulator.project}.{dataset}", delete_contents=True, not_found_ok=True)


def bar(symbol: str, ts: datetime | str, close: float, **extra: object) -> dict[str, object]:
    row = {"symbol": symbol, "timeframe": "1Min", "timestamp": ts, "open": close, "high": close,
           "low": close, "close": close, "volume": 10.0, "source": "synthetic",
           "data_hash": f"{symbol}-{ts}"}
    return {**row, **extra}


def decision(n: int, agent: str = "a1", *, actions: list | None = None, cash: float = 100.0) -> dict:
    return {
        "decision_id": f"{agent}-{n}", "agent_id": agent, "user_id": "u1", "session_id": "s1",
        "mode": "backtest", "decision_point": n, "bar_time": T0 + timedelta(days=n),
        "recorded_at": T0, "stage": "next", "action": "TRADED" if actions else "HOLD",
        "actions": actions or [],
        "data_accessed": [{"symbol": "AAPL", "data_hash": "h1", "fields": ["close"],
                           "reads": [{"seq": 1, "field": "close", "index": 0, "value": 10.5}]}],
        "access_count": 1, "portfolio_value": 1000.0 + n, "cash": cash,
        "positions": [{"symbol": "AAPL", "size": 1.0, "price": 10.0, "value": 10.0}],
    }


def order(seq: int, side: str, size: float) -> dict[str, object]:
    return {"seq": seq, "side": side, "symbol": "AAPL", "size": size, "price": 10.0,
            "order_type": "market", "order_id": f"o{seq}", "status": "filled"}


def test_inserted_bars_come_back_typed_with_utc_timestamps(warehouse: Warehouse) -> None:
    warehouse.insert_rows("market_data.bars", [bar("AAPL", T0, 1.5, trade_count=7),
                                               bar("MSFT", "2024-03-01T15:30:00+01:00", 2.5)])
    rows = warehouse.query("SELECT symbol, timestamp, close, trade_count, vwap FROM market_data.bars "
                           "ORDER BY symbol")
    assert rows == [
        {"symbol": "AAPL", "timestamp": T0, "close": 1.5, "trade_count": 7, "vwap": None},
        {"symbol": "MSFT", "timestamp": T0, "close": 2.5, "trade_count": None, "vwap": None},
    ]
    assert rows[0]["timestamp"].tzinfo == UTC


def test_array_and_timestamp_params_filter_and_group(warehouse: Warehouse) -> None:
    warehouse.insert_rows("market_data.bars", [bar(s, T0 + timedelta(hours=h), float(h))
                                               for s in ("A", "B", "C") for h in range(4)])
    rows = warehouse.query(
        "SELECT symbol, AVG(close) AS c, COUNT(*) AS n FROM market_data.bars "
        "WHERE symbol IN UNNEST(@symbols) AND timestamp >= @start GROUP BY symbol ORDER BY symbol",
        {"symbols": ["A", "C"], "start": T0 + timedelta(hours=2)},
    )
    assert rows == [{"symbol": "A", "c": 2.5, "n": 2}, {"symbol": "C", "c": 2.5, "n": 2}]


def test_date_and_timestamp_trunc_bucket_by_utc_day(warehouse: Warehouse) -> None:
    late = datetime(2024, 3, 1, 23, 59, tzinfo=UTC)
    warehouse.insert_rows("market_data.bars", [bar("A", late, 1.0), bar("A", late + timedelta(minutes=2), 3.0)])
    rows = warehouse.query(
        "SELECT DATE(timestamp) AS day, TIMESTAMP_TRUNC(timestamp, DAY) AS start, COUNTIF(close > 2) AS up "
        "FROM market_data.bars WHERE DATE(timestamp) >= @day GROUP BY 1, 2 ORDER BY day",
        {"day": date(2024, 3, 1)},
    )
    assert rows == [
        {"day": date(2024, 3, 1), "start": datetime(2024, 3, 1, tzinfo=UTC), "up": 0},
        {"day": date(2024, 3, 2), "start": datetime(2024, 3, 2, tzinfo=UTC), "up": 1},
    ]


def test_window_functions_qualify_and_ctes_rank_agents(warehouse: Warehouse) -> None:
    warehouse.insert_rows("fmel.decisions", [decision(1, "a1", cash=5.0), decision(2, "a1", cash=50.0),
                                             decision(1, "a2", cash=20.0)])
    rows = warehouse.query(
        "WITH last AS (SELECT agent_id, cash, ROW_NUMBER() OVER (PARTITION BY agent_id "
        "ORDER BY decision_point DESC) AS rn FROM fmel.decisions QUALIFY rn = 1) "
        "SELECT agent_id, cash, RANK() OVER (ORDER BY cash DESC) AS rank FROM last ORDER BY rank "
        "LIMIT @limit OFFSET @offset",
        {"limit": 10, "offset": 0},
    )
    assert rows == [{"agent_id": "a1", "cash": 50.0, "rank": 1}, {"agent_id": "a2", "cash": 20.0, "rank": 2}]


def test_repeated_records_round_trip_and_unnest(warehouse: Warehouse) -> None:
    warehouse.insert_rows("fmel.decisions", [decision(1, actions=[order(1, "buy", 2.0), order(2, "sell", 1.0)]),
                                             decision(2)])
    stored = warehouse.query("SELECT actions, data_accessed, positions FROM fmel.decisions "
                             "WHERE decision_point = @n", {"n": 1})
    assert stored[0]["actions"] == [order(1, "buy", 2.0), order(2, "sell", 1.0)]
    assert stored[0]["data_accessed"][0]["reads"] == [{"seq": 1, "field": "close", "index": 0, "value": 10.5}]
    assert warehouse.query("SELECT actions FROM fmel.decisions WHERE decision_point = 2") == [{"actions": []}]
    sides = warehouse.query(
        "SELECT d.decision_id, a.side, SAFE_DIVIDE(a.size, @zero) AS ratio FROM fmel.decisions AS d, "
        "UNNEST(d.actions) AS a WHERE a.side IN UNNEST(@sides) ORDER BY a.seq",
        {"sides": ["buy", "sell"], "zero": 0.0},
    )
    assert sides == [{"decision_id": "a1-1", "side": "buy", "ratio": None},
                     {"decision_id": "a1-1", "side": "sell", "ratio": None}]


def test_injection_in_a_parameter_is_inert(warehouse: Warehouse) -> None:
    warehouse.insert_rows("market_data.bars", [bar("AAPL", T0, 1.0)])
    evil = "AAPL'; DROP TABLE market_data.bars; --"
    assert warehouse.query("SELECT COUNT(*) AS n FROM market_data.bars WHERE symbol = @s", {"s": evil}) == [{"n": 0}]
    in_list = "SELECT symbol FROM market_data.bars WHERE symbol IN UNNEST(@s)"
    assert warehouse.query(in_list, {"s": [evil, "' OR 1=1 --"]}) == []
    assert warehouse.query("SELECT COUNT(*) AS n FROM market_data.bars") == [{"n": 1}]


def test_unknown_column_is_rejected_by_name(warehouse: Warehouse) -> None:
    with pytest.raises(InvalidInputError, match="colse"):
        warehouse.insert_rows("market_data.bars", [bar("A", T0, 1.0, colse=2.0)])


def test_missing_required_column_is_rejected(warehouse: Warehouse) -> None:
    row = bar("A", T0, 1.0)
    del row["data_hash"]
    with pytest.raises(InvalidInputError, match="data_hash"):
        warehouse.insert_rows("market_data.bars", [row])
    assert warehouse.query("SELECT COUNT(*) AS n FROM market_data.bars") == [{"n": 0}]


def test_dates_accept_date_objects_and_iso_strings(warehouse: Warehouse) -> None:
    run = {"run_id": "r1", "agent_id": "a1", "user_id": "u1", "status": "succeeded",
           "symbols": ["AAPL", "MSFT"], "start_date": date(2023, 1, 2), "end_date": "2023-12-29",
           "finished_at": "2024-01-01T00:00:00Z", "sharpe": 1.25}
    warehouse.insert_rows("analytics.backtest_runs", [run])
    rows = warehouse.query("SELECT symbols, start_date, end_date, finished_at, sharpe FROM analytics.backtest_runs")
    assert rows == [{"symbols": ["AAPL", "MSFT"], "start_date": date(2023, 1, 2), "end_date": date(2023, 12, 29),
                     "finished_at": datetime(2024, 1, 1, tzinfo=UTC), "sharpe": 1.25}]


def test_unknown_table_and_bad_timestamp_are_invalid_input(warehouse: Warehouse) -> None:
    with pytest.raises(InvalidInputError, match="no warehouse table"):
        warehouse.insert_rows("market_data.nope", [{"a": 1}])
    with pytest.raises(InvalidInputError, match="timestamp"):
        warehouse.insert_rows("market_data.bars", [bar("A", "yesterday", 1.0)])


def test_missing_query_parameter_is_named(warehouse: Warehouse) -> None:
    with pytest.raises(InvalidInputError, match="@start"):
        warehouse.query("SELECT COUNT(*) AS n FROM market_data.bars WHERE timestamp >= @start", {})


def test_ensure_tables_is_idempotent(warehouse: Warehouse) -> None:
    warehouse.insert_rows("market_data.bars", [bar("A", T0, 1.0)])
    warehouse.ensure_tables()
    assert warehouse.query("SELECT COUNT(*) AS n FROM market_data.bars") == [{"n": 1}]


def test_a_batch_round_trips_as_rows_columns_or_an_arrow_table(warehouse: Warehouse) -> None:
    import pyarrow as pa

    rows = [decision(n, actions=[order(n, "buy", 1.0)] if n % 2 else None) for n in range(1, 7)]
    warehouse.insert_batch("fmel.decisions", rows[:2])
    warehouse.insert_batch("fmel.decisions", {k: [r[k] for r in rows[2:4]] for k in rows[0]})
    warehouse.insert_batch("fmel.decisions", pa.Table.from_pylist(rows[4:]))
    stored = warehouse.query("SELECT decision_id, bar_time, actions, data_accessed, positions "
                             "FROM fmel.decisions ORDER BY decision_point")
    assert stored == [{k: r[k] for k in ("decision_id", "bar_time", "actions", "data_accessed", "positions")}
                      | {"actions": [order(n + 1, "buy", 1.0)] if (n + 1) % 2 else []}
                      for n, r in enumerate(rows)]


def test_a_batch_is_validated_like_rows(warehouse: Warehouse) -> None:
    with pytest.raises(InvalidInputError, match="colse"):
        warehouse.insert_batch("market_data.bars", {"colse": [1.0]})
    with pytest.raises(InvalidInputError, match="data_hash"):
        warehouse.insert_batch("market_data.bars", [{k: v for k, v in bar("A", T0, 1.0).items() if k != "data_hash"}])
    with pytest.raises(InvalidInputError, match="row 0.open: FLOAT64"):
        warehouse.insert_batch("market_data.bars", [bar("A", T0, "high")])  # type: ignore[arg-type]
    warehouse.insert_batch("market_data.bars", [])
    assert warehouse.query("SELECT COUNT(*) AS n FROM market_data.bars") == [{"n": 0}]
