"""The replay's broker fills exactly as the paper runtime's: the same orders through
`SimulatedBroker` on the real document store and through `ReplayBroker` in memory give the same
notifications (status, size, price, commission, bar), the same cash and positions, and carry
the same open orders across a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import backtrader as bt
import pandas as pd
import pytest

from shared.adapters.local.documents import SqliteDocumentStore
from shared.market.loader import make_feed
from shared.ports.broker import BROKER_ACCOUNTS
from shared.venues.simulated.accounts import SimulatedAccounts
from shared.venues.simulated.execution import SimulatedBroker
from shared.venues.simulated.replay import AccountMemory, ReplayBroker

TERMS = {"slippage": 0.001, "commission": 0.0005, "participation": 0.25}


class Scripted(bt.Strategy):
    """Market, limit and stop orders, one too big for a bar's volume, one too big for the cash."""

    params = (("log", None),)

    def next(self) -> None:
        n = len(self)
        data = self.datas[n % 2]
        if n == 2:
            self.buy(data=data, size=700)  # partial fills: 25% of 1,000 per bar
        elif n == 3:
            self.buy(data=data, size=50, exectype=bt.Order.Limit, price=data.close[0] - 0.5)
        elif n == 5:
            self.sell(data=data, size=30, exectype=bt.Order.Stop, price=data.close[0] - 1.0)
        elif n == 7:
            self.buy(data=data, size=5_000)  # more than the cash: partly filled, then refused
        elif n == 9:
            self.close(data=self.datas[0])
        elif n == 10:
            self.cancel(self.buy(data=data, size=1, exectype=bt.Order.Limit, price=1.0))

    def notify_order(self, order: bt.Order) -> None:
        self.p.log.append((order.ref, order.getstatusname(), float(order.executed.size),
                           round(float(order.executed.price or 0.0), 10), round(float(order.executed.comm), 10),
                           len(order.data)))


def _frames() -> dict[str, pd.DataFrame]:
    index = pd.date_range("2025-01-06 14:30", periods=16, freq="1min", name="datetime")
    out = {}
    for k, symbol in enumerate(("AAPL", "MSFT")):
        base = [100.0 + k * 50 + (i * 7 % 5) - 2 for i in range(16)]
        out[symbol] = pd.DataFrame({
            "open": base, "high": [b + 1.5 for b in base], "low": [b - 1.5 for b in base],
            "close": [b + 0.25 for b in base], "volume": [1_000.0] * 16, "trade_count": [10.0] * 16,
            "vwap": base, "openinterest": [0.0] * 16, "data_hash": [f"{symbol}{i}" for i in range(16)],
        }, index=index)
    return out


def _run(make_broker: Any, frames: dict[str, pd.DataFrame]) -> tuple[list, float, dict[str, Any]]:
    cerebro = bt.Cerebro(stdstats=False, quicknotify=True)
    feeds = [make_feed(s, f, "1Min") for s, f in frames.items()]
    for feed in feeds:
        cerebro.adddata(feed)
    broker = make_broker(feeds)
    cerebro.setbroker(broker)
    log: list = []
    cerebro.addstrategy(Scripted, log=log)
    cerebro.run()
    refs: dict[int, int] = {}  # backtrader numbers orders process-wide: compare them by order of birth
    log = [(refs.setdefault(ref, len(refs)), *rest) for ref, *rest in log]
    positions = {d._name: (float(p.size), round(float(p.price), 10)) for d, p in broker.positions.items() if p.size}
    return log, round(broker.getcash(), 8), positions


@pytest.fixture
def store(tmp_path: Path) -> SqliteDocumentStore:
    documents = SqliteDocumentStore(tmp_path / "documents.sqlite3")
    accounts = SimulatedAccounts(documents)
    accounts.create_account("u", "a")  # "sim-a"
    accounts.fund("u", "sim-a", 20_000.0, idempotency_key="start")
    return documents


def test_the_replay_broker_fills_every_order_exactly_as_the_paper_broker(store) -> None:
    frames = _frames()
    paper = _run(lambda feeds: SimulatedBroker(store, "sim-a", datas=feeds, **TERMS), frames)
    memory = AccountMemory(20_000.0)
    replay = _run(lambda feeds: ReplayBroker(memory, feeds, **TERMS), frames)
    statuses = {status for _, status, *_ in paper[0]}
    assert {"Partial", "Completed", "Margin", "Canceled"} <= statuses  # the scenario covers them
    assert replay == paper
    saved = store.get(BROKER_ACCOUNTS, "sim-a")
    assert memory.document["cash"] == saved["cash"] and memory.document["positions"] == saved["positions"]
    def fills(trades: list[dict]) -> list[dict]:
        return [{k: v for k, v in t.items() if k != "order_id"} for t in trades]  # refs are per process

    assert fills(memory.document["recent_trades"]) == fills(saved["recent_trades"])


def test_open_orders_carry_over_a_restart_in_both_alike(store) -> None:
    frames = _frames()
    first = {s: f.iloc[:3] for s, f in frames.items()}  # the 700-share buy is still filling
    rest = {s: f.iloc[3:] for s, f in frames.items()}
    memory = AccountMemory(20_000.0)
    for part in (first, rest):
        paper = _run(lambda feeds: SimulatedBroker(store, "sim-a", datas=feeds, **TERMS), part)
        replay = _run(lambda feeds: ReplayBroker(memory, feeds, **TERMS), part)
        assert replay == paper
        if part is first:
            assert 0 < memory.document["open_orders"][0]["size"] < 700  # part-filled, re-attached next run
    saved = store.get(BROKER_ACCOUNTS, "sim-a")
    assert [o | {"order_id": None} for o in saved["open_orders"]] == \
        [o | {"order_id": None} for o in memory.document["open_orders"]]
    assert saved["cash"] == memory.document["cash"] and saved["positions"] == memory.document["positions"]
