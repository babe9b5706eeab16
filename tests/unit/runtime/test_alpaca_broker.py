"""AlpacaBroker against a local fake of Alpaca (Broker API REST per account + SSE trade events, alpaca-py).

Each test scripts what Alpaca does to an order and checks the backtrader order that the
strategy would see: its status sequence and executed size, price and commission. The broker
trades one Broker API account of the fake (not the keys' own paper account).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

import backtrader as bt
import pandas as pd
import pytest

from shared.venues.alpaca.config import AlpacaCredentials, BrokerApiConfig, canonical_symbol
from shared.venues.alpaca.execution import AlpacaBroker
from shared.venues.alpaca.orders import client_order_id
from tests.fakes.alpaca_server import FakeAlpaca
from tests.fakes.alpaca_state import Account, Step

START_CASH = 100_000.0
COMMISSION = 0.001  # 0.1% of traded value, charged by the platform (Alpaca paper has none)
PLANTED_SECRET = "planted-SECRET-do-not-leak-7f3a"
Status = bt.Order
Feeds = dict[str, bt.feeds.PandasData]
SESSION = "ps-0123456789abcdef"


@pytest.fixture
def fake() -> Iterator[FakeAlpaca]:
    with FakeAlpaca(key_id="PKPLANTED", secret_key=PLANTED_SECRET) as server:
        yield server


@pytest.fixture
def account(fake: FakeAlpaca) -> Account:
    """The session's own Broker API account, funded."""
    return fake.ledger.open_account(START_CASH)


def order_id(broker: AlpacaBroker, order: bt.Order) -> str:
    return client_order_id(broker.session_id, broker.run_tag, order.ref)


def loaded_data(symbol: str, close: float = 100.0) -> bt.feeds.PandasData:
    """A feed for `symbol` holding one bar, as a live feed would after its first message."""
    frame = pd.DataFrame(
        {"open": [close], "high": [close], "low": [close], "close": [close], "volume": [1e6], "openinterest": [0.0]},
        index=pd.to_datetime(["2024-01-02 14:30"]),
    )
    data = bt.feeds.PandasData(dataname=frame, name=symbol)
    bt.Cerebro().adddata(data)
    data._start()
    data.next()
    return data


@pytest.fixture
def make_broker(fake: FakeAlpaca, account: Account) -> Iterator[Callable[..., tuple[AlpacaBroker, Feeds]]]:
    brokers: list[AlpacaBroker] = []

    def make(*symbols: str, stream: bool = True) -> tuple[AlpacaBroker, dict[str, bt.feeds.PandasData]]:
        datas = {s: loaded_data(s, 42_000.0 if "/" in s else 100.0) for s in symbols or ("AAPL",)}
        broker = AlpacaBroker(
            BrokerApiConfig(AlpacaCredentials(fake.key_id, fake.secret_key), fake.url), account.id, SESSION,
            datas=datas.values(), use_stream=stream, poll_s=0.05, stream_poll_s=60.0,
        )
        broker.setcommission(commission=COMMISSION)
        broker.start()
        brokers.append(broker)
        if stream:
            wait_until(lambda: broker.stream_connected and fake.listeners > 0)
        return broker, datas

    yield make
    for broker in brokers:
        broker.shutdown()


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0, broker: AlpacaBroker | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if broker is not None:
            broker.next()
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def drain(broker: AlpacaBroker) -> list[int]:
    statuses = []
    while (note := broker.get_notification()) is not None:
        statuses.append(note.status)
    return statuses


def test_a_partial_then_complete_fill_executes_real_size_price_and_commission(fake: FakeAlpaca, make_broker) -> None:
    broker, datas = make_broker("AAPL")
    fake.script("AAPL", Step("partial_fill", qty=4, price=100.0, delay_s=0.05), Step("fill", price=101.0, delay_s=0.1))

    order = broker.buy(None, datas["AAPL"], 10)
    wait_until(lambda: order.status == Status.Completed, broker=broker)

    assert drain(broker) == [Status.Submitted, Status.Accepted, Status.Partial, Status.Completed]
    assert [bit.size for bit in order.executed.exbits] == [4, 6]
    assert order.executed.size == 10
    assert order.executed.price == pytest.approx(100.6)
    assert order.executed.comm == pytest.approx(COMMISSION * (4 * 100.0 + 6 * 101.0))
    position = broker.getposition(datas["AAPL"])
    assert (position.size, position.price) == (10, pytest.approx(100.6))
    assert broker.getcash() == pytest.approx(START_CASH - 1006.0 - COMMISSION * 1006.0)
    assert [(f.size, f.price) for f in broker.state().recent_trades] == [(4, 100.0), (6, 101.0)]


def test_a_sell_that_closes_the_position_books_the_profit(fake: FakeAlpaca, make_broker) -> None:
    broker, datas = make_broker("AAPL")
    fake.script("AAPL", Step("fill", price=100.0))
    buy = broker.buy(None, datas["AAPL"], 5)
    wait_until(lambda: buy.status == Status.Completed, broker=broker)
    fake.script("AAPL", Step("fill", price=110.0))

    sell = broker.sell(None, datas["AAPL"], 5)
    wait_until(lambda: sell.status == Status.Completed, broker=broker)

    assert (sell.executed.size, sell.executed.price) == (-5, 110.0)
    assert sell.executed.pnl == pytest.approx(50.0)
    assert broker.getposition(datas["AAPL"]).size == 0


def test_cancel_after_a_partial_fill_keeps_what_was_executed(fake: FakeAlpaca, account: Account, make_broker) -> None:
    broker, datas = make_broker("AAPL")
    fake.script("AAPL", Step("partial_fill", qty=3, price=90.0))
    order = broker.buy(None, datas["AAPL"], 10, price=90.0, exectype=bt.Order.Limit)
    wait_until(lambda: order.status == Status.Partial, broker=broker)

    broker.cancel(order)
    wait_until(lambda: order.status == Status.Canceled, broker=broker)

    assert drain(broker)[-1] == Status.Canceled
    assert (order.executed.size, order.executed.price) == (3, 90.0)
    assert fake.ledger.find_by_client_id(account.id, order_id(broker, order))["limit_price"] == 90.0


def test_an_order_alpaca_rejects_is_rejected_with_nothing_executed(fake: FakeAlpaca, make_broker) -> None:
    broker, datas = make_broker("AAPL")
    fake.script("AAPL", Step("reject"))
    order = broker.sell(None, datas["AAPL"], 7, price=120.0, exectype=bt.Order.Stop)
    wait_until(lambda: order.status == Status.Rejected, broker=broker)

    assert drain(broker) == [Status.Submitted, Status.Accepted, Status.Rejected]
    assert order.executed.size == 0
    assert broker.getcash() == START_CASH


def test_an_order_type_alpaca_lacks_is_rejected_without_calling_alpaca(fake: FakeAlpaca, make_broker) -> None:
    broker, datas = make_broker("AAPL")
    posts = sum(1 for method, _ in fake.requests if method == "POST")
    order = broker.buy(None, datas["AAPL"], 1, exectype=bt.Order.StopTrail, trailamount=1.0)
    assert order.status == Status.Rejected
    assert sum(1 for method, _ in fake.requests if method == "POST") == posts


def test_a_lost_answer_is_retried_with_the_same_client_order_id_and_places_one_order(
    fake: FakeAlpaca, account: Account, make_broker
) -> None:
    broker, datas = make_broker("AAPL")
    fake.drop_order_responses = 1
    fake.script("AAPL", Step("fill", price=100.0, delay_s=0.2))

    order = broker.buy(None, datas["AAPL"], 2)
    wait_until(lambda: order.status == Status.Completed, broker=broker)

    placed = fake.ledger.list_orders(account.id, "all")
    assert len(placed) == 1
    assert placed[0]["client_order_id"] == order_id(broker, order)
    assert order.executed.size == 2


def test_crypto_orders_use_the_slash_symbol_and_positions_map_back_from_btcusd(
    fake: FakeAlpaca, account: Account, make_broker
) -> None:
    broker, datas = make_broker("BTC/USD")
    fake.script("BTC/USD", Step("fill", price=42_000.0))
    order = broker.buy(None, datas["BTC/USD"], 0.5)
    wait_until(lambda: order.status == Status.Completed, broker=broker)
    assert fake.ledger.list_orders(account.id, "all")[0]["symbol"] == "BTC/USD"
    assert account.position_list()[0]["symbol"] == "BTCUSD"  # how Alpaca reports it

    restarted, again = make_broker("BTC/USD")

    position = restarted.getposition(again["BTC/USD"])
    assert (position.size, position.price) == (0.5, 42_000.0)
    assert restarted.state().positions[0].symbol == "BTC/USD"


@pytest.mark.parametrize(
    ("given", "asset_class", "expected"),
    [("BTCUSD", None, "BTC/USD"), ("btc/usd", None, "BTC/USD"), ("ETHUSDT", None, "ETH/USDT"),
     ("SOLUSD", "crypto", "SOL/USD"), ("AAPL", None, "AAPL"), ("AAPL", "us_equity", "AAPL"),
     ("BTCUSD", "us_equity", "BTCUSD"), ("USD", None, "USD")],
)
def test_symbols_map_to_one_canonical_form(given: str, asset_class: str | None, expected: str) -> None:
    assert canonical_symbol(given, asset_class) == expected


def test_polling_takes_over_when_the_stream_drops(fake: FakeAlpaca, account: Account, make_broker) -> None:
    broker, datas = make_broker("AAPL")
    order = broker.buy(None, datas["AAPL"], 10, price=99.0, exectype=bt.Order.Limit)
    wait_until(lambda: order.status == Status.Accepted, broker=broker)
    fake.refuse_stream = True
    fake.drop_stream()
    wait_until(lambda: not broker.stream_connected)

    alpaca_id = fake.ledger.find_by_client_id(account.id, order_id(broker, order))["id"]
    fake.act(alpaca_id, Step("partial_fill", qty=5, price=99.0), account.id)
    fake.act(alpaca_id, Step("fill", price=98.0), account.id)
    wait_until(lambda: order.status == Status.Completed, broker=broker)

    assert fake.listeners == 0  # nothing could have come over the stream
    assert ("GET", f"/v1/trading/accounts/{account.id}/orders/{alpaca_id}") in fake.requests
    assert (order.executed.size, order.executed.price) == (10, pytest.approx(98.5))


def test_stream_and_poll_seeing_the_same_fill_execute_it_once(fake: FakeAlpaca, make_broker) -> None:
    broker, datas = make_broker("AAPL")
    fake.script("AAPL", Step("fill", price=100.0, delay_s=0.05))
    order = broker.buy(None, datas["AAPL"], 3)
    wait_until(lambda: order.status == Status.Completed, broker=broker)
    broker.poll()
    broker.poll()
    assert order.executed.size == 3
    assert broker.getposition(datas["AAPL"]).size == 3


def test_a_restart_reattaches_open_orders_and_completes_them(fake: FakeAlpaca, account: Account, make_broker) -> None:
    first, datas = make_broker("AAPL")
    fake.script("AAPL", Step("partial_fill", qty=4, price=95.0))
    order = first.buy(None, datas["AAPL"], 10, price=95.0, exectype=bt.Order.Limit)
    wait_until(lambda: order.status == Status.Partial, broker=first)
    first.shutdown()  # the process dies with the order open at Alpaca

    second, again = make_broker("AAPL")
    assert len(second.reattached) == 1
    adopted = second.reattached[0]
    assert (adopted.status, adopted.size, adopted.isbuy()) == (Status.Accepted, 6, True)
    assert second.getposition(again["AAPL"]).size == 4  # the pre-restart fill, from Alpaca

    alpaca_id = fake.ledger.list_orders(account.id)[0]["id"]
    fake.act(alpaca_id, Step("fill", price=94.5), account.id)
    wait_until(lambda: adopted.status == Status.Completed, broker=second)

    assert (adopted.executed.size, adopted.executed.price) == (6, 94.5)
    assert adopted.executed.comm == pytest.approx(COMMISSION * 6 * 94.5)
    position = second.getposition(again["AAPL"])
    assert (position.size, position.price) == (10, pytest.approx((4 * 95.0 + 6 * 94.5) / 10))


def test_the_api_keys_never_reach_logs_or_state(
    fake: FakeAlpaca, make_broker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    broker, datas = make_broker("AAPL")
    fake.script("AAPL", Step("reject"))
    order = broker.buy(None, datas["AAPL"], 1)
    wait_until(lambda: order.status == Status.Rejected, broker=broker)
    fake.drop_order_responses = 1
    broker.buy(None, datas["AAPL"], 1)

    text = caplog.text + repr(broker.state()) + repr(broker._config)
    assert PLANTED_SECRET not in text
