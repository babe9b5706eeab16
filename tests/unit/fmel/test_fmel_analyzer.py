from __future__ import annotations

from datetime import UTC, datetime

import backtrader as bt
import pandas as pd
import pytest

from shared.fmel import FmelAnalyzer
from shared.market.bars import hash_bar_values
from shared.market.loader import load_bars, make_feed
from shared.market.synthetic import write_synthetic_market
from shared.schemas.warehouse import DECISIONS

START, END = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 20, tzinfo=UTC)  # 13 trading days


@pytest.fixture
def frames(warehouse) -> dict[str, pd.DataFrame]:
    write_synthetic_market(warehouse, ["AAA", "BBB"], START, END)
    return load_bars(warehouse, ["AAA", "BBB"], START, END)


def run(strategy: type[bt.Strategy], frames: dict[str, pd.DataFrame], **fmel: object) -> list[dict]:
    cerebro = bt.Cerebro(stdstats=False, runonce=fmel.pop("runonce", True))
    for symbol, frame in frames.items():
        cerebro.adddata(make_feed(symbol, frame))
    cerebro.addstrategy(strategy)
    cerebro.addanalyzer(FmelAnalyzer, _name="fmel", session_id="s1", agent_id="a1", user_id="u1", **fmel)
    strat = cerebro.run()[0]
    return strat.analyzers.fmel.get_analysis()["rows"]


def reads_of(row: dict) -> list[tuple[str, str, int, str]]:
    """The row's reads in the order the strategy made them."""
    reads = [(r["seq"], a["symbol"], r["field"], r["index"], a["data_hash"])
             for a in row["data_accessed"] for r in a["reads"]]
    return [read[1:] for read in sorted(reads)]


class ReadsEveryWay(bt.Strategy):
    def next(self) -> None:
        self.data.close[0]
        self.datas[1].close[-1]
        self.data0.open[0]
        self.getdatabyname("BBB").high.get(size=3)
        self.data.lines.volume[0]
        self.data1[0]


def test_every_way_of_reading_a_feed_is_recorded_with_the_bars_warehouse_hash(frames) -> None:
    rows = run(ReadsEveryWay, frames)
    row = rows[5]
    a, b = frames["AAA"]["data_hash"], frames["BBB"]["data_hash"]
    assert reads_of(row) == [
        ("AAA", "close", 0, a.iloc[5]),
        ("BBB", "close", -1, b.iloc[4]),
        ("AAA", "open", 0, a.iloc[5]),
        ("BBB", "high", -2, b.iloc[3]),
        ("BBB", "high", -1, b.iloc[4]),
        ("BBB", "high", 0, b.iloc[5]),
        ("AAA", "volume", 0, a.iloc[5]),
        ("BBB", "close", 0, b.iloc[5]),
    ]
    assert row["access_count"] == len(reads_of(row))


class ReadsTwice(bt.Strategy):
    def next(self) -> None:
        self.data1[0]
        self.datas[1].close[0]


def test_a_repeated_read_is_kept_once_and_fields_are_grouped_per_bar(frames) -> None:
    row = run(ReadsTwice, frames)[3]
    assert row["data_accessed"] == [
        {"symbol": "BBB", "data_hash": frames["BBB"]["data_hash"].iloc[3], "fields": ["close"],
         "reads": [{"seq": 1, "field": "close", "index": 0, "value": frames["BBB"]["close"].iloc[3]}]}
    ]


class ReadsTheClock(bt.Strategy):
    def next(self) -> None:
        self.data.datetime[0]
        self.datetime[0]
        self.data.close[0]


def test_reading_the_clock_is_not_recorded_as_market_data(frames) -> None:
    row = run(ReadsTheClock, frames)[3]
    assert reads_of(row) == [("AAA", "close", 0, frames["AAA"]["data_hash"].iloc[3])]


class WithSma(bt.Strategy):
    def __init__(self) -> None:
        self.sma = bt.ind.SMA(self.data.close, period=3)

    def next(self) -> None:
        self.sma[0]


def test_an_indicator_read_names_its_input_field_and_window_on_the_bar_it_belongs_to(frames) -> None:
    rows = run(WithSma, frames)
    first = rows[2]  # bar 3: the first with an SMA(3) value
    assert first["stage"] == "nextstart"
    assert reads_of(first) == [("AAA", "SMA:close[-2..0]", 0, frames["AAA"]["data_hash"].iloc[2])]


def test_expanded_indicator_reads_list_every_bar_of_the_window(frames) -> None:
    row = run(WithSma, frames, expand_indicators=True)[4]
    hashes = frames["AAA"]["data_hash"]
    assert reads_of(row) == [("AAA", "close", i, hashes.iloc[4 + i]) for i in (-2, -1, 0)]


class Buys(bt.Strategy):
    def __init__(self) -> None:
        self.sma = bt.ind.SMA(self.data.close, period=3)

    def prenext(self) -> None:
        self.data.close[0]

    def next(self) -> None:
        if len(self) == 4:
            self.buy(size=5)
        if len(self) == 7:
            self.close()


def test_stages_actions_fills_and_portfolio_are_recorded_per_decision(frames) -> None:
    rows = run(Buys, frames, start_point=41)
    assert [r["decision_point"] for r in rows] == list(range(41, 41 + len(frames["AAA"])))
    assert [r["decision_id"] for r in rows[:2]] == ["s1:00000041", "s1:00000042"]
    assert [r["stage"] for r in rows[:4]] == ["prenext", "prenext", "nextstart", "next"]
    assert [r["action"] for r in rows[:7]] == ["INACTIVE", "INACTIVE", "HOLD", "TRADED", "HOLD", "HOLD", "TRADED"]
    buy = rows[3]["actions"][0]
    fill_price = frames["AAA"]["open"].iloc[4]  # market order fills at the next bar's open
    assert buy == {"seq": 1, "side": "buy", "symbol": "AAA", "size": 5.0, "price": fill_price,
                   "order_type": "Market", "order_id": buy["order_id"], "status": "Completed"}
    held = rows[4]
    close = frames["AAA"]["close"].iloc[4]
    assert held["positions"] == [{"symbol": "AAA", "size": 5.0, "price": fill_price, "value": 5 * close}]
    assert held["cash"] == pytest.approx(10_000 - 5 * fill_price)
    assert held["portfolio_value"] == pytest.approx(held["cash"] + 5 * close)
    assert rows[6]["actions"][0]["side"] == "sell" and rows[7]["positions"] == []
    assert rows[0]["bar_time"] == datetime(2024, 1, 2, tzinfo=UTC)


def test_rows_match_the_decisions_table_and_insert_into_the_warehouse(frames, warehouse) -> None:
    rows = run(Buys, frames)
    assert all(set(r) == {c.name for c in DECISIONS.columns} for r in rows)
    warehouse.insert_rows("fmel.decisions", rows)
    stored = warehouse.query("SELECT * FROM fmel.decisions")
    assert sorted(r["decision_id"] for r in stored) == [r["decision_id"] for r in rows]


def test_bar_by_bar_mode_records_the_same_decisions_as_runonce(frames) -> None:
    def strip(rows: list[dict]) -> list[dict]:
        for row in rows:
            row.pop("recorded_at")
            for action in row["actions"]:
                action.pop("order_id")  # backtrader numbers orders process-wide
        return rows

    assert strip(run(Buys, frames, runonce=False)) == strip(run(Buys, frames))


def test_a_feed_without_warehouse_hashes_gets_each_bars_content_hash(frames) -> None:
    frame = frames["AAA"].drop(columns=["data_hash"])
    rows = run(ReadsTwice, {"AAA": frame, "BBB": frame})
    bar = frame.iloc[3]
    expected = hash_bar_values("BBB", "1Day", frame.index[3].to_pydatetime().replace(tzinfo=UTC),
                               bar.open, bar.high, bar.low, bar.close, bar.volume)
    assert rows[3]["data_accessed"][0]["data_hash"] == expected


def test_the_strategy_and_its_lines_are_restored_after_the_run(frames) -> None:
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(make_feed("AAA", frames["AAA"]))
    cerebro.addstrategy(WithSma)
    cerebro.addanalyzer(FmelAnalyzer)
    strat = cerebro.run()[0]
    assert "next" not in strat.__dict__ and type(strat.data.lines.close) is bt.LineBuffer
    assert type(strat.sma.lines[0]) is bt.LineBuffer
    assert type(strat.data.lines.datetime) is bt.LineBuffer and type(strat.lines.datetime) is bt.LineBuffer


def test_every_read_price_carries_the_bars_own_value(frames) -> None:
    rows = run(ReadsEveryWay, frames)
    row = rows[5]
    values = {(d["symbol"], r["field"], r["index"]): r["value"] for d in row["data_accessed"] for r in d["reads"]}
    assert values[("AAA", "close", 0)] == frames["AAA"]["close"].iloc[5]
    assert values[("BBB", "high", -2)] == frames["BBB"]["high"].iloc[3]
    assert values[("AAA", "volume", 0)] == frames["AAA"]["volume"].iloc[5]
