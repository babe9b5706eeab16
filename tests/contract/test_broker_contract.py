"""Contract of a venue's broker, run over the simulated venue and over Alpaca (a local fake of its servers).

Each venue is used the way the platform uses it: accounts opened and funded through the venue's
accounts adapter (`shared.venues.broker_accounts`), the runtime's broker built for a session's
account by `shared.venues.make_broker` (tests.fixtures.venues). On Alpaca that is alpaca-py's
BrokerClient against the fake Broker API (per-account REST and the SSE trade events); only
Alpaca's servers are fake. Prices are flat at 100: a market order fills at 100 on both venues,
a limit at 90 rests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import backtrader as bt
import pytest

from tests.fixtures.venues import PRICE, START_CASH, Status, Venue, statuses, venue_named, wait


@pytest.fixture(params=["simulated", "alpaca"])
def venue(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Venue]:
    with venue_named(request.param, tmp_path, monkeypatch) as built:
        yield built


def test_a_market_buy_fills_and_moves_cash_and_position(venue: Venue) -> None:
    account_id = venue.open_account("alice", "agent-a")
    broker, datas = venue.broker(account_id, "ps-a", "AAPL")
    assert broker.account_id == account_id  # the platform's id: the runtime checks it against the session's
    venue.will_fill("AAPL")

    order = broker.buy(None, datas["AAPL"], 10)
    wait(lambda: order.status == Status.Completed, venue.step(broker, datas))

    assert statuses(broker) == [Status.Submitted, Status.Accepted, Status.Completed]
    assert (order.executed.size, order.executed.price) == (10, PRICE)
    position = broker.getposition(datas["AAPL"])
    assert (position.size, position.price) == (10, PRICE)
    assert broker.getcash() == pytest.approx(START_CASH - 10 * PRICE)
    assert broker.getvalue() == pytest.approx(START_CASH)


def test_a_sell_closes_the_position_and_returns_the_cash(venue: Venue) -> None:
    broker, datas = venue.broker(venue.open_account("alice", "agent-a"), "ps-a", "AAPL")
    venue.filled(broker, datas, 4)

    sell = venue.filled(broker, datas, -4)

    assert (sell.executed.size, sell.executed.price) == (-4, PRICE)
    assert broker.getposition(datas["AAPL"]).size == 0
    assert broker.getcash() == pytest.approx(START_CASH)


def test_a_resting_order_is_accepted_and_cancels_with_nothing_executed(venue: Venue) -> None:
    broker, datas = venue.broker(venue.open_account("alice", "agent-a"), "ps-a", "AAPL")
    order = broker.buy(None, datas["AAPL"], 5, price=90.0, exectype=bt.Order.Limit)
    step = venue.step(broker, datas)
    wait(lambda: order.status == Status.Accepted, step)
    for _ in range(3):
        step()  # bars pass (simulated) or polls run (Alpaca): a limit under the market stays open
    assert order.status == Status.Accepted

    broker.cancel(order)
    wait(lambda: order.status == Status.Canceled, step)

    assert statuses(broker)[-1] == Status.Canceled
    assert order.executed.size == 0
    assert broker.getcash() == pytest.approx(START_CASH)


def test_state_reports_cash_value_positions_and_fills(venue: Venue) -> None:
    broker, datas = venue.broker(venue.open_account("alice", "agent-a"), "ps-a", "AAPL")
    venue.filled(broker, datas, 3)

    state = broker.state()

    assert state.cash == pytest.approx(START_CASH - 3 * PRICE)
    assert state.value == pytest.approx(START_CASH)
    assert [(h.symbol, h.size, h.price) for h in state.positions] == [("AAPL", 3, PRICE)]
    assert [(f.symbol, f.side, f.size, f.price) for f in state.recent_trades] == [("AAPL", "buy", 3, PRICE)]
    assert state.trades == 1


def test_a_restart_resumes_positions_and_adopts_the_sessions_open_orders(venue: Venue) -> None:
    account_id = venue.open_account("alice", "agent-a")
    first, datas = venue.broker(account_id, "ps-a", "AAPL")
    venue.filled(first, datas, 10)
    resting = first.buy(None, datas["AAPL"], 5, price=90.0, exectype=bt.Order.Limit)
    wait(lambda: resting.status == Status.Accepted, venue.step(first, datas))
    first.shutdown()  # the process ends with the order open at the venue

    second, again = venue.broker(account_id, "ps-a", "AAPL")

    position = second.getposition(again["AAPL"])
    assert (position.size, position.price) == (10, PRICE)
    assert second.getcash() == pytest.approx(START_CASH - 10 * PRICE)
    assert len(second.reattached) == 1
    adopted = second.reattached[0]
    assert (adopted.status, adopted.size, adopted.isbuy(), adopted.created.price) == (Status.Accepted, 5, True, 90.0)
    second.cancel(adopted)
    wait(lambda: adopted.status == Status.Canceled, venue.step(second, again))


def test_each_account_keeps_its_own_cash_and_positions(venue: Venue) -> None:
    alice, datas = venue.broker(venue.open_account("alice", "agent-a"), "ps-a", "AAPL")
    bob, bobs = venue.broker(venue.open_account("bob", "agent-b", cash=5_000.0), "ps-b", "AAPL")

    venue.filled(alice, datas, 7)
    for _ in range(3):
        venue.step(bob, bobs)()

    assert alice.getposition(datas["AAPL"]).size == 7
    assert bob.getposition(bobs["AAPL"]).size == 0
    assert bob.getcash() == pytest.approx(5_000.0)
    assert bob.state().recent_trades == () and bob.state().positions == ()


def test_a_new_session_on_the_account_adopts_none_of_an_earlier_sessions_orders(venue: Venue) -> None:
    account_id = venue.open_account("alice", "agent-a")
    first, datas = venue.broker(account_id, "ps-first", "AAPL")
    resting = first.buy(None, datas["AAPL"], 5, price=90.0, exectype=bt.Order.Limit)
    wait(lambda: resting.status == Status.Accepted, venue.step(first, datas))
    first.shutdown()

    later, _ = venue.broker(account_id, "ps-later", "AAPL")

    assert later.reattached == []
