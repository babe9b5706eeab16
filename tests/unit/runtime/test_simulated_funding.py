"""Funding during a running simulated session is not lost: the broker's next write keeps it.

The simulated accounts and the simulated broker both move the account's cash. Each does it as an
increment inside a transaction (`BrokerAccount.fund`, `BrokerAccount.settle_trading`), so a
funding made while the runtime trades survives the broker's next fills and reaches the agent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import pytest

from shared.adapters.local.documents import SqliteDocumentStore
from shared.ports.broker import BROKER_ACCOUNTS
from shared.venues.simulated.accounts import SimulatedAccounts
from shared.venues.simulated.execution import SimulatedBroker
from tests.fixtures.venues import PRICE, Status, flat_feed, wait


class Running(NamedTuple):
    """Alice's simulated account, funded once, and a started broker trading it over a flat AAPL feed."""

    documents: SqliteDocumentStore
    accounts: SimulatedAccounts
    account_id: str
    data: Any
    broker: SimulatedBroker


def running(tmp_path: Path, funding: float, **broker_options: Any) -> Running:
    documents = SqliteDocumentStore(tmp_path / "documents.sqlite3")
    accounts = SimulatedAccounts(documents)
    account_id = accounts.create_account("alice", "agent-a").account_id
    accounts.fund("alice", account_id, funding, idempotency_key="start")
    data = flat_feed("AAPL")
    broker = SimulatedBroker(documents, account_id, datas=[data], **broker_options)
    broker.start()
    return Running(documents, accounts, account_id, data, broker)


def test_funding_during_a_running_session_survives_the_brokers_next_fills(tmp_path: Path) -> None:
    documents, accounts, account_id, data, broker = running(tmp_path, 10_000.0, slippage=0.0)

    def step() -> None:
        data.next()
        broker.next()

    first = broker.buy(None, data, 10)
    wait(lambda: first.status == Status.Completed, step)
    assert documents.get(BROKER_ACCOUNTS, account_id)["cash"] == pytest.approx(10_000.0 - 10 * PRICE)

    accounts.fund("alice", account_id, 5_000.0, idempotency_key="top-up")  # while the session runs
    second = broker.buy(None, data, 10)
    wait(lambda: second.status == Status.Completed, step)

    stored = documents.get(BROKER_ACCOUNTS, account_id)
    assert stored["cash"] == pytest.approx(15_000.0 - 20 * PRICE)  # the funding is kept, both fills paid
    assert stored["funded_total"] == 15_000.0 and set(stored["fundings"]) == {"start", "top-up"}
    assert stored["positions"]["AAPL"]["size"] == 20
    assert broker.getcash() == pytest.approx(15_000.0 - 20 * PRICE)  # and the agent can spend it
    assert accounts.get_account("alice", account_id).cash == pytest.approx(13_000.0)
    broker.shutdown()
    assert documents.get(BROKER_ACCOUNTS, account_id)["cash"] == pytest.approx(13_000.0)


def test_an_idle_broker_picks_up_a_funding_without_any_fill(tmp_path: Path) -> None:
    documents, accounts, account_id, _, broker = running(tmp_path, 1_000.0, refresh_s=0.0)

    accounts.fund("alice", account_id, 2_500.0, idempotency_key="top-up")
    broker.next()

    assert broker.getcash() == pytest.approx(3_500.0)
    broker.shutdown()
    assert documents.get(BROKER_ACCOUNTS, account_id)["cash"] == pytest.approx(3_500.0)
