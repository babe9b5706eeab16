"""`farm data`: the synthetic market and Alpaca history (through a local fake of its REST API)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from farm.commands.data import pull_alpaca, synth
from shared.errors import AuthenticationError
from tests.fakes.alpaca_rest import KEY, SECRET, FakeAlpacaRest
from tests.fixtures.common import make_warehouse

START, END = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)


def alpaca_bars(symbol: str, days: int) -> list[dict]:
    out = []
    for i in range(days):
        t = (START + timedelta(days=i, hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        price = 100.0 + i
        out.append({"t": t, "o": price, "h": price + 1, "l": price - 1, "c": price + 0.5, "v": 1000 + i,
                    "n": 10 + i, "vw": price + 0.25})
    return out


@pytest.fixture
def fake() -> FakeAlpacaRest:
    server = FakeAlpacaRest({"AAPL": alpaca_bars("AAPL", 30), "MSFT": alpaca_bars("MSFT", 25)}, page_size=20)
    yield server
    server.close()


def test_alpaca_history_is_pulled_across_pages_into_market_data_bars(fake, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("APCA_API_KEY_ID", KEY)
    monkeypatch.setenv("APCA_API_SECRET_KEY", SECRET)
    warehouse = make_warehouse(tmp_path)
    written = pull_alpaca(warehouse, ["AAPL", "MSFT"], START, END, url=fake.url)

    rows = warehouse.query("SELECT * FROM market_data.bars")
    assert written == len(rows) == 55
    assert {r["source"] for r in rows} == {"alpaca-iex"}
    first = min((r for r in rows if r["symbol"] == "AAPL"), key=lambda r: r["timestamp"])
    assert (first["open"], first["close"], first["volume"], first["trade_count"], first["vwap"]) == (
        100.0, 100.5, 1000.0, 10, 100.25)
    assert len({r["data_hash"] for r in rows}) == 55
    assert fake.requests[0]["symbols"] == ["AAPL,MSFT"] and fake.requests[0]["timeframe"] == ["1Day"]
    assert [q.get("page_token") for q in fake.requests] == [None, ["20"], ["40"]]


def test_pagination_follows_next_page_token(fake) -> None:
    first = fake.page({"symbols": ["AAPL,MSFT"], "limit": ["100"]})
    second = fake.page({"symbols": ["AAPL,MSFT"], "page_token": [first["next_page_token"]]})
    assert first["next_page_token"] == "20" and len(first["bars"]["AAPL"]) == 20
    assert len(second["bars"]["AAPL"]) == 10 and len(second["bars"]["MSFT"]) == 10


def test_wrong_keys_are_refused_and_missing_keys_named(fake, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("APCA_API_KEY_ID", raising=False)
    with pytest.raises(AuthenticationError, match="APCA_API_KEY_ID"):
        pull_alpaca(make_warehouse(tmp_path), ["AAPL"], START, END, url=fake.url)
    monkeypatch.setenv("APCA_API_KEY_ID", "wrong")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "wrong")
    with pytest.raises(Exception, match="forbidden|403"):
        pull_alpaca(make_warehouse(tmp_path), ["AAPL"], START, END, url=fake.url)


def test_the_synthetic_market_is_written_and_labelled(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path)
    written = synth(warehouse, ["AAA"], START, END)
    rows = warehouse.query("SELECT * FROM market_data.bars")
    assert written == len(rows) > 30 and {r["source"] for r in rows} == {"synthetic"}
