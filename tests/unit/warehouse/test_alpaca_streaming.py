"""`farm data alpaca` writes each batch as its pages arrive, with the ingester's bar hashes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alpaca.data.historical import StockHistoricalDataClient

from shared.market import alpaca_history
from shared.market.bars import Bar, bar_hash
from tests.fakes.alpaca_rest import KEY, SECRET, FakeAlpacaRest
from tests.fixtures.common import make_warehouse

START = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)


def minute_bars(n: int) -> list[dict[str, Any]]:
    return [{"t": (START + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"), "o": 10.0 + i, "h": 11.0 + i,
             "l": 9.0 + i, "c": 10.5 + i, "v": 100 + i, "n": 3, "vw": 10.25 + i} for i in range(n)]


class Watched:
    """The real warehouse, noting how many pages had been requested at each insert."""

    def __init__(self, inner: Any, fake: FakeAlpacaRest) -> None:
        self.inner, self.fake, self.requests_at_insert = inner, fake, []

    def insert_batch(self, table: str, batch: Any) -> None:
        self.requests_at_insert.append(len(self.fake.requests))
        self.inner.insert_batch(table, batch)


def test_batches_are_written_while_later_pages_are_still_to_come(tmp_path: Path) -> None:
    fake = FakeAlpacaRest({"AAPL": minute_bars(70), "MSFT": minute_bars(50)}, page_size=20)
    try:
        warehouse = Watched(make_warehouse(tmp_path), fake)
        client = StockHistoricalDataClient(KEY, SECRET, url_override=fake.url)
        written = alpaca_history.load(warehouse, client, ["AAPL", "MSFT"], START, START + timedelta(days=1),
                                      "1Min", "iex", batch_rows=40)
    finally:
        fake.close()
    assert written == 120 and len(fake.requests) == 6
    assert warehouse.requests_at_insert == [2, 4, 6]  # one batch per two pages, never the whole download
    rows = warehouse.inner.query("SELECT * FROM market_data.bars WHERE symbol = 'MSFT' ORDER BY timestamp")
    assert len(rows) == 50 and {r["source"] for r in rows} == {"alpaca-iex"}
    first = rows[0]
    expected = Bar("MSFT", "1Min", START, 10.0, 11.0, 9.0, 10.5, 100.0, 3, 10.25, "alpaca-iex")
    assert first["data_hash"] == bar_hash(expected)  # the same hash the ingester gives that bar
    assert (first["timestamp"], first["volume"], first["trade_count"]) == (START, 100.0, 3)
