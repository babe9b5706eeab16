"""SimulatedBroker fills into backtrader orders; BusDataFeed/BusRouter route bars by symbol."""

from __future__ import annotations

import time
from pathlib import Path

import backtrader as bt
import pytest

from runtime.feeds import BusRouter, make_feed
from shared.adapters.local.documents import SqliteDocumentStore
from shared.adapters.local.messages import EmbeddedMessageBus
from shared.errors import NotFoundError
from shared.market.messages import encode
from shared.ports.broker import BROKER_ACCOUNTS
from shared.schemas.topics import MARKET_DATA
from shared.venues.simulated.accounts import SimulatedAccounts
from shared.venues.simulated.execution import SimulatedBroker
from tests.unit.runtime.stack import make_bar


class Scripted(bt.Strategy):
    """Place the orders of `script` (bar number -> kwargs of buy/sell) and keep every notification."""

    params = (("script", {}),)

    def __init__(self) -> None:
        self.notes: list[tuple[str, float, float, float]] = []

    def notify_order(self, order: bt.Order) -> None:
        self.notes.append((order.getstatusname(), order.executed.size, order.executed.price, order.executed.comm))

    def next(self) -> None:
        for side, kwargs in self.p.script.get(len(self), []):
            getattr(self, side)(**kwargs)


def run(documents, account_id, bars, script, **broker_kwargs):
    feed = make_feed("AAPL")
    for bar in bars:
        feed.put(bar)
    feed.shutdown()  # the run ends once the queued bars are consumed
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(feed)
    broker = SimulatedBroker(documents, account_id, datas=[feed], **broker_kwargs)
    cerebro.setbroker(broker)
    cerebro.addstrategy(Scripted, script=script)
    return cerebro.run()[0], broker


@pytest.fixture
def account(tmp_path: Path):
    documents = SqliteDocumentStore(tmp_path / "docs.sqlite3")
    accounts = SimulatedAccounts(documents)
    created = accounts.create_account("alice", "a1")
    accounts.fund("alice", created.account_id, 10_000.0, idempotency_key="k1")
    accounts.fund("alice", created.account_id, 10_000.0, idempotency_key="k1")  # a repeat changes nothing
    return documents, accounts, created.account_id


def test_a_market_order_fills_at_the_next_open_with_slippage_and_commission(account) -> None:
    documents, accounts, account_id = account
    bars = [make_bar("AAPL", i, price=100.0) for i in range(3)]
    strategy, broker = run(documents, account_id, bars, {1: [("buy", {"size": 10})]},
                           slippage=0.01, commission=0.001)
    completed = [n for n in strategy.notes if n[0] == "Completed"]
    assert completed == [("Completed", 10, pytest.approx(101.0), pytest.approx(10 * 101.0 * 0.001))]
    assert broker.getcash() == pytest.approx(10_000 - 1010 - 1.01)
    stored = accounts.get_account("alice", account_id)
    assert stored.positions[0].size == 10 and stored.cash == pytest.approx(broker.getcash())


def test_a_big_order_fills_partially_over_several_bars(account) -> None:
    documents, _, account_id = account
    bars = [make_bar("AAPL", i, price=50.0, volume=40.0) for i in range(5)]
    strategy, _ = run(documents, account_id, bars, {1: [("buy", {"size": 100})]}, slippage=0.0, participation=1.0)
    statuses = [n[0] for n in strategy.notes]
    assert statuses[:2] == ["Submitted", "Accepted"]
    assert statuses.count("Partial") == 2 and statuses[-1] == "Completed"
    assert [n[1] for n in strategy.notes if n[0] in ("Partial", "Completed")] == [40, 80, 100]


def test_limit_and_stop_orders_wait_until_the_bar_trades_through_them(account) -> None:
    documents, _, account_id = account
    prices = [100.0, 100.0, 100.0, 96.0, 104.0]
    bars = [make_bar("AAPL", i, price=p) for i, p in enumerate(prices)]
    script = {1: [("buy", {"size": 1, "exectype": bt.Order.Limit, "price": 95.5}),
                  ("buy", {"size": 1, "exectype": bt.Order.Stop, "price": 104.5})]}
    strategy, _ = run(documents, account_id, bars, script, slippage=0.0)
    fills = [n for n in strategy.notes if n[0] == "Completed"]
    assert [f[2] for f in fills] == [95.5, 104.5]  # bar 4 (low 95) hits the limit, bar 5 (high 105) the stop


def test_a_restarted_broker_resumes_cash_and_positions_from_its_account(account) -> None:
    documents, _, account_id = account
    _, first = run(documents, account_id, [make_bar("AAPL", i, price=10.0) for i in range(3)],
                   {1: [("buy", {"size": 5})]}, slippage=0.0)
    strategy, second = run(documents, account_id, [make_bar("AAPL", i, price=12.0) for i in range(3, 5)], {})
    assert second.getcash() == pytest.approx(first.getcash())
    assert second.getposition(strategy.datas[0]).size == 5
    assert second.getvalue() == pytest.approx(first.getcash() + 5 * 12.5)  # marked at the latest close


def test_open_orders_survive_a_restart_and_go_on_filling(account) -> None:
    documents, accounts, account_id = account
    script = {1: [("buy", {"size": 100, "exectype": bt.Order.Limit, "price": 95.5})]}
    # Run 1: volume 40 a bar fills 40 of the limit order, then the price moves away.
    bars = [make_bar("AAPL", 0, price=100.0), make_bar("AAPL", 1, price=95.0, volume=40.0),
            make_bar("AAPL", 2, price=100.0)]
    _, first = run(documents, account_id, bars, script, slippage=0.0)
    saved = documents.get(BROKER_ACCOUNTS, account_id)["open_orders"]
    assert [(o["side"], o["type"], o["size"], o["price"]) for o in saved] == [("buy", "Limit", 60.0, 95.5)]
    assert [p.size for p in first.positions.values()] == [40]

    # Run 2 (a new process): the order is adopted with what remains and fills when the price returns.
    bars = [make_bar("AAPL", 3, price=100.0), make_bar("AAPL", 4, price=95.0)]
    strategy, second = run(documents, account_id, bars, {}, slippage=0.0)
    assert [(o.size, o.created.price, o.isbuy()) for o in second.reattached] == [(60, 95.5, True)]
    # The strategy hears of it (accepted on adoption) and of its fill, at the open below the limit.
    assert [n[:3] for n in strategy.notes] == [("Accepted", 0, 0.0), ("Completed", 60, 95.0)]
    assert second.getposition(strategy.datas[0]).size == 100
    stored = accounts.get_account("alice", account_id)
    assert documents.get(BROKER_ACCOUNTS, account_id)["open_orders"] == []
    assert [t.order_id for t in stored.recent_trades] == [saved[0]["order_id"]] * 2  # one id across runs


def test_a_cancelled_order_is_not_adopted_after_a_restart(account) -> None:
    documents, _, account_id = account

    class PlaceThenCancel(Scripted):
        def next(self) -> None:
            if len(self) == 1:
                self.placed = self.buy(size=1, exectype=bt.Order.Limit, price=50.0)
            elif len(self) == 2:
                self.cancel(self.placed)

    feed = make_feed("AAPL")
    for i in range(3):
        feed.put(make_bar("AAPL", i, price=100.0))
    feed.shutdown()
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(feed)
    cerebro.setbroker(SimulatedBroker(documents, account_id, datas=[feed]))
    cerebro.addstrategy(PlaceThenCancel)
    cerebro.run()
    assert documents.get(BROKER_ACCOUNTS, account_id)["open_orders"] == []
    _, again = run(documents, account_id, [make_bar("AAPL", 3, price=40.0)], {})
    assert again.reattached == [] and again.getcash() == pytest.approx(10_000)


def test_an_open_order_without_a_feed_in_this_run_stays_open_in_the_account(account) -> None:
    documents, _, account_id = account
    waiting = {"order_id": "7", "symbol": "MSFT", "side": "sell", "type": "Stop", "size": 3.0, "price": 90.0}
    documents.update(BROKER_ACCOUNTS, account_id, {"open_orders": [waiting]})
    _, broker = run(documents, account_id, [make_bar("AAPL", i, price=100.0) for i in range(2)],
                    {1: [("buy", {"size": 1})]})
    assert broker.reattached == []
    assert documents.get(BROKER_ACCOUNTS, account_id)["open_orders"] == [waiting]


def test_an_unaffordable_buy_is_refused_as_margin(account) -> None:
    documents, _, account_id = account
    strategy, _ = run(documents, account_id, [make_bar("AAPL", i, price=1e6) for i in range(3)],
                      {1: [("buy", {"size": 1})]})
    assert strategy.notes[-1][0] == "Margin"


def test_the_router_uses_one_subscription_per_topic_and_drops_old_bars(tmp_path: Path) -> None:
    bus = EmbeddedMessageBus(tmp_path / "bus.sqlite3")
    feeds = [make_feed(s) for s in ("AAPL", "MSFT", "NVDA")]
    router = BusRouter(bus, [("runtime-s1-market-data", MARKET_DATA)], feeds, wait_s=0.05)
    router.create()
    router.start()
    bars = [make_bar("AAPL", 2), make_bar("AAPL", 1), make_bar("MSFT", 1), make_bar("TSLA", 1)]
    bus.publish(MARKET_DATA, [encode(b) for b in bars])
    deadline = time.monotonic() + 5
    while router.routed + router.ignored < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    router.stop(delete=True)
    assert router.routed == 3 and router.ignored == 0  # TSLA is filtered out by the subscription
    aapl, msft, nvda = feeds
    assert _next_load(aapl) is True and _next_load(aapl) is False and aapl.dropped == 1  # the older bar
    assert _next_load(msft) is True and msft.lines.vwap[0] == pytest.approx(101.2)
    assert _next_load(nvda) is False  # shut down and empty: the run ends
    with pytest.raises(NotFoundError):
        bus.pull("runtime-s1-market-data")  # deleted on stop


def test_a_waiting_feed_returns_none_without_blocking() -> None:
    feed = make_feed("AAPL")
    feed._qcheck = 0.0
    started = time.monotonic()
    assert feed._load() is None
    assert time.monotonic() - started < 0.05


def _next_load(feed):
    feed.forward()  # what DataBase.load does before _load: room for one more bar
    return feed._load()
