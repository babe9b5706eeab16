"""Two paper sessions on Alpaca trade two different Broker API accounts, and a restart adopts only its own orders.

The production bug this guards against: every runtime traded the platform's one paper account,
synced its whole cash and positions, and adopted every open `farm-` order on restart. Here both
sessions run against the fake Alpaca (Broker API REST per account and SSE trade events), with
accounts opened and funded through the accounts adapter, as `POST /api/broker/accounts` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import backtrader as bt
import pytest

from shared.venues.alpaca.accounts import alpaca_account_of
from tests.fakes.alpaca_state import Account
from tests.fixtures.venues import PRICE, Status, Venue, venue_named, wait


@pytest.fixture
def venue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Venue]:
    with venue_named("alpaca", tmp_path, monkeypatch) as built:
        yield built


def alpaca_account(venue: Venue, account_id: str) -> Account:
    assert venue.fake is not None
    return venue.fake.ledger.account(alpaca_account_of(venue.documents, account_id))


def test_two_sessions_trade_two_accounts_and_never_see_each_others_positions(venue: Venue) -> None:
    assert venue.fake is not None
    account_a = venue.open_account("alice", "agent-a", 20_000.0)
    account_b = venue.open_account("bob", "agent-b", 8_000.0)
    a, feeds_a = venue.broker(account_a, "ps-aaaa", "AAPL")
    b, feeds_b = venue.broker(account_b, "ps-bbbb", "AAPL")

    venue.filled(a, feeds_a, 10)
    venue.filled(b, feeds_b, 3)
    for _ in range(3):  # any update of the other account that reached a stream is applied by now
        venue.step(a, feeds_a)()
        venue.step(b, feeds_b)()

    at_a, at_b = alpaca_account(venue, account_a), alpaca_account(venue, account_b)
    assert at_a.id != at_b.id
    assert at_a.positions == {"AAPL": [10.0, PRICE]} and at_b.positions == {"AAPL": [3.0, PRICE]}
    assert all(o["client_order_id"].startswith("farm-ps-aaaa-") for o in at_a.orders.values())
    assert all(o["client_order_id"].startswith("farm-ps-bbbb-") for o in at_b.orders.values())
    assert venue.fake.paper.orders == {}  # the keys' own paper account is never traded
    assert not any(path.startswith("/v2/") for _, path in venue.fake.requests)  # only per-account endpoints

    assert (a.getposition(feeds_a["AAPL"]).size, b.getposition(feeds_b["AAPL"]).size) == (10, 3)
    assert (a.getcash(), b.getcash()) == (pytest.approx(19_000.0), pytest.approx(7_700.0))
    assert [f.size for f in a.state().recent_trades] == [10] and [f.size for f in b.state().recent_trades] == [3]

    # A restarted runtime of session b reads only b's account.
    b.shutdown()
    b_again, feeds_again = venue.broker(account_b, "ps-bbbb", "AAPL")
    assert b_again.getposition(feeds_again["AAPL"]).size == 3
    assert b_again.getcash() == pytest.approx(7_700.0)


def test_a_restarted_runtime_adopts_only_its_own_sessions_open_orders(venue: Venue) -> None:
    assert venue.fake is not None
    account_a, account_b = venue.open_account("alice", "agent-a"), venue.open_account("bob", "agent-b")
    a, feeds_a = venue.broker(account_a, "ps-aaaa", "AAPL")
    b, feeds_b = venue.broker(account_b, "ps-bbbb", "AAPL")
    mine = a.buy(None, feeds_a["AAPL"], 5, price=90.0, exectype=bt.Order.Limit)
    theirs = b.buy(None, feeds_b["AAPL"], 2, price=91.0, exectype=bt.Order.Limit)
    wait(lambda: mine.status == Status.Accepted and theirs.status == Status.Accepted, venue.step(a, feeds_a))
    at_a = alpaca_account(venue, account_a)
    for client_id in ("farm-ps-earlier-0123456789-1", "placed-by-hand-1"):  # same account, not this session's
        venue.fake.ledger.submit(at_a.id, {"symbol": "AAPL", "side": "buy", "type": "limit", "qty": "1",
                                           "limit_price": "80", "time_in_force": "day", "client_order_id": client_id})
    a.shutdown()

    restarted, _ = venue.broker(account_a, "ps-aaaa", "AAPL")
    assert [(o.size, o.created.price) for o in restarted.reattached] == [(5, 90.0)]

    another_session, _ = venue.broker(account_a, "ps-later", "AAPL")  # the agent's next session
    assert another_session.reattached == []
    assert len(venue.fake.ledger.list_orders(at_a.id)) == 3  # nothing it did not adopt was touched
