"""The Broker API's SSE trade events, read for one account from the fake Alpaca (real HTTP, alpaca-py's keys)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shared.venues.alpaca.config import AlpacaCredentials, BrokerApiConfig
from shared.venues.alpaca.trade_events import TradeEventStream
from tests.fakes.alpaca_server import FakeAlpaca

ORDER = {"symbol": "AAPL", "side": "buy", "type": "market", "time_in_force": "day", "qty": "1"}


@pytest.fixture
def fake() -> Iterator[FakeAlpaca]:
    with FakeAlpaca(key_id="CKEVENTS", secret_key="events-secret") as server:
        yield server


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def listen(fake: FakeAlpaca, account_id: str, **options: Any) -> tuple[TradeEventStream, list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []
    config = BrokerApiConfig(AlpacaCredentials(fake.key_id, fake.secret_key), fake.url)
    stream = TradeEventStream(config, account_id, received.append, **options)
    stream.start()
    wait_until(lambda: stream.connected and fake.trade_events.listeners > 0)
    return stream, received


def test_only_the_accounts_own_events_are_delivered(fake: FakeAlpaca) -> None:
    mine, theirs = fake.ledger.open_account(1_000.0), fake.ledger.open_account(1_000.0)
    stream, received = listen(fake, mine.id)
    try:
        fake.ledger.submit(theirs.id, ORDER | {"client_order_id": "theirs-1"})
        fake.ledger.submit(mine.id, ORDER | {"client_order_id": "mine-1"})
        wait_until(lambda: len(received) == 1)
        time.sleep(0.2)  # the other account's event came first on the stream: it stays dropped
        assert [(e["account_id"], e["event"], e["order"]["client_order_id"]) for e in received] == [
            (mine.id, "new", "mine-1")]
    finally:
        stream.stop()


def test_a_silent_stream_reconnects_and_keeps_delivering(fake: FakeAlpaca) -> None:
    account = fake.ledger.open_account(1_000.0)
    fake.trade_events.heartbeat_s = 30.0  # no heartbeat: the reader's read timeout fires first
    stream, received = listen(fake, account.id, read_timeout_s=0.3)
    try:
        wait_until(lambda: fake.trade_events.logins >= 3)  # it reconnected, twice, without giving up
        wait_until(lambda: stream.connected)
        fake.ledger.submit(account.id, ORDER | {"client_order_id": "after-silence"})
        wait_until(lambda: [e["order"]["client_order_id"] for e in received] == ["after-silence"])
    finally:
        stream.stop()


def test_stop_ends_the_reader_thread_promptly(fake: FakeAlpaca) -> None:
    stream, _ = listen(fake, fake.ledger.open_account().id)
    started = time.monotonic()
    stream.stop()
    assert time.monotonic() - started < 5.0
    assert not any(t.name.startswith("alpaca-trade-events") and t.is_alive() for t in threading.enumerate())
