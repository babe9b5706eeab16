"""Two agent runtimes on Alpaca (the fake Alpaca's Broker API) trade two agents' own accounts.

The production bug: every runtime on Google Cloud traded the platform's one paper account. Here
the application trades on Alpaca (`FARM_BROKER=alpaca`): the agents' accounts are opened and
funded through the Broker API, two sessions run the same trading agent in-process (sandboxed, as
in production) on the same bars, and each one's orders, fills and positions are its own account's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.app import AgentRuntime, RuntimeOptions
from shared.app import Application
from shared.schemas.collections import SESSIONS
from shared.venues.alpaca.accounts import alpaca_account_of
from shared.venues.alpaca.config import BROKER_KEY_ID_ENV, BROKER_SECRET_KEY_ENV, BROKER_URL_ENV
from tests.app_factory import embedded_app
from tests.fakes.alpaca_server import FakeAlpaca
from tests.fixtures.common import make_warehouse
from tests.unit.runtime.stack import backtested_agent, publish_bars, session_for

OPTIONS = RuntimeOptions(heartbeat_s=0.3, flush_s=0.3)
FILL_PRICE = 101.0


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAlpaca]:
    with FakeAlpaca(key_id="CKRUNTIME", secret_key="runtime-secret") as server:
        monkeypatch.setenv(BROKER_KEY_ID_ENV, server.key_id)
        monkeypatch.setenv(BROKER_SECRET_KEY_ENV, server.secret_key)
        monkeypatch.setenv(BROKER_URL_ENV, server.url)
        server.ledger.market_prices["AAPL"] = FILL_PRICE  # the agent's market orders fill at once
        yield server


@pytest.fixture
def platform(tmp_path: Path, fake: FakeAlpaca) -> Iterator[Application]:
    app = embedded_app(tmp_path / "data", warehouse=make_warehouse(tmp_path), broker="alpaca")
    yield app
    app.close()


def start(platform: Application, session_id: str) -> tuple[AgentRuntime, threading.Thread]:
    runtime = AgentRuntime(platform, session_id, OPTIONS)
    thread = threading.Thread(target=runtime.run)
    thread.start()
    assert runtime.ready.wait(30), "runtime did not become ready"
    return runtime, thread


def test_two_runtimes_on_alpaca_trade_two_accounts_and_never_see_each_others_positions(
    platform: Application, fake: FakeAlpaca,
) -> None:
    sessions = {}
    for uid, agent_id, session_id in (("alice", "agent-a", "ps-alice"), ("bob", "agent-b", "ps-bob")):
        backtested_agent(platform, uid, agent_id)  # opens and funds its Broker API account
        sessions[session_id] = session_for(platform, agent_id, ["AAPL"], session_id, uid)
    runtimes = [start(platform, session_id) for session_id in sessions]

    for i in range(7):  # the agent buys 10 on every third bar while flat, and sells two bars later
        publish_bars(platform.messages, "AAPL", range(i, i + 1))
        time.sleep(0.05)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not all(len(r.latencies) >= 7 for r, _ in runtimes):
        time.sleep(0.05)
    for runtime, thread in runtimes:
        runtime.request_stop()
        thread.join(30)

    accounts = {}
    for session_id in sessions:
        session = platform.documents.get(SESSIONS, session_id)
        accounts[session_id] = fake.ledger.account(alpaca_account_of(platform.documents, session["account_id"]))
        assert session["trades"] >= 1 and session["recent_trades"][0]["price"] == FILL_PRICE
    alice, bob = accounts["ps-alice"], accounts["ps-bob"]
    assert alice.id != bob.id
    assert alice.orders and all(o["client_order_id"].startswith("farm-ps-alice-") for o in alice.orders.values())
    assert bob.orders and all(o["client_order_id"].startswith("farm-ps-bob-") for o in bob.orders.values())
    assert fake.paper.orders == {}  # the keys' own paper account is never traded
    for session_id, account in accounts.items():  # each session's positions are its account's only
        held = {p["symbol"]: p["size"] for p in platform.documents.get(SESSIONS, session_id)["positions"]}
        assert held == {s: q for s, (q, _) in account.positions.items()}
        filled = sum(float(o["filled_qty"]) for o in account.orders.values() if o["side"] == "buy")
        assert filled <= 20  # one agent's buys, never both agents' in one account
