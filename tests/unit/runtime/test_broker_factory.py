"""The venue comes from FARM_BROKER: simulated locally, Alpaca (against a fake) when chosen; accounts follow it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from runtime.feeds import make_feed
from shared.adapters.local.documents import SqliteDocumentStore
from shared.adapters.local.orchestrator import LocalOrchestrator
from shared.errors import ConflictError, SettingsError, TransientError
from shared.ports.broker import BROKER_ACCOUNTS
from shared.ports.orchestrator import RuntimeSpec
from shared.settings import Settings
from shared.venues import broker_accounts, make_broker
from shared.venues.alpaca.accounts import AlpacaBrokerAccounts, alpaca_account_of
from shared.venues.alpaca.config import (
    BROKER_KEY_ID_ENV,
    BROKER_SECRET_KEY_ENV,
    BROKER_URL_ENV,
    AlpacaCredentials,
    BrokerApiConfig,
)
from shared.venues.alpaca.execution import AlpacaBroker
from shared.venues.simulated.accounts import SimulatedAccounts
from shared.venues.simulated.execution import SimulatedBroker
from tests.fakes.alpaca_server import FakeAlpaca
from tests.fixtures.common import make_warehouse
from tests.unit.runtime.stack import backtested_agent, local_platform, session_for


def test_the_local_backend_trades_on_the_simulated_broker_by_default(tmp_path: Path) -> None:
    platform = local_platform(tmp_path / "data", make_warehouse(tmp_path))
    session_id = session_for(platform, backtested_agent(platform), ["AAPL"])
    session = platform.documents.get("sessions", session_id)
    assert Settings().runtime_broker == "simulated"
    assert isinstance(broker_accounts(Settings(), platform.documents), SimulatedAccounts)
    broker = make_broker(platform.settings, platform.documents, session_id, session, [make_feed("AAPL")],
                         slippage=0.01)
    assert isinstance(broker, SimulatedBroker) and broker.p.slippage == 0.01
    broker.start()
    assert broker.getcash() == 25_000.0  # the funded account the session points at


def test_gcp_defaults_to_alpaca_and_an_unknown_broker_is_named_in_the_error() -> None:
    assert Settings(backend="gcp", gcp_project="p").runtime_broker == "alpaca"
    assert Settings(backend="gcp", gcp_project="p", broker="simulated").runtime_broker == "simulated"
    with pytest.raises(SettingsError, match="FARM_BROKER"):
        Settings.from_env({"FARM_BROKER": "interactive-brokers"})


def test_choosing_alpaca_trades_the_sessions_own_broker_api_account(monkeypatch, tmp_path) -> None:
    with FakeAlpaca(key_id="CKFACTORY", secret_key="s3cret", cash=50_000.0) as fake:
        monkeypatch.setenv(BROKER_KEY_ID_ENV, "CKFACTORY")
        monkeypatch.setenv(BROKER_SECRET_KEY_ENV, "s3cret")
        monkeypatch.setenv(BROKER_URL_ENV, fake.url)
        settings = Settings(broker="alpaca")
        documents = SqliteDocumentStore(tmp_path / "documents.sqlite3")
        accounts = broker_accounts(settings, documents)
        assert isinstance(accounts, AlpacaBrokerAccounts)
        account = accounts.create_account("alice", "agent-1")
        accounts.fund("alice", account.account_id, 20_000.0, idempotency_key="first")

        broker = make_broker(settings, documents, "ps-one", {"account_id": account.account_id}, [make_feed("AAPL")])
        assert isinstance(broker, AlpacaBroker)
        broker.start()
        try:
            assert broker.getcash() == 20_000.0  # its own account, not the keys' 50,000 paper account
            deadline = time.monotonic() + 10  # the trade-events stream authenticates with the same keys
            while not (broker.stream_connected and fake.listeners > 0) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert broker.stream_connected
        finally:
            broker.shutdown()


def test_alpaca_refuses_a_session_whose_account_is_not_an_opened_alpaca_account(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(BROKER_KEY_ID_ENV, "CK")
    monkeypatch.setenv(BROKER_SECRET_KEY_ENV, "s")
    documents = SqliteDocumentStore(tmp_path / "documents.sqlite3")
    simulated = SimulatedAccounts(documents).create_account("alice", "agent-1")
    with pytest.raises(ConflictError, match="not an opened Alpaca account"):
        make_broker(Settings(broker="alpaca"), documents, "ps-one", {"account_id": simulated.account_id}, [])


def test_choosing_alpaca_without_keys_names_the_missing_variable(monkeypatch) -> None:
    monkeypatch.delenv(BROKER_KEY_ID_ENV, raising=False)
    monkeypatch.delenv(BROKER_SECRET_KEY_ENV, raising=False)
    with pytest.raises(SettingsError, match=BROKER_KEY_ID_ENV):
        broker_accounts(Settings(broker="alpaca"), None)  # type: ignore[arg-type]


def test_local_runtimes_get_broker_api_keys_only_when_they_trade_on_alpaca(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(BROKER_KEY_ID_ENV, "CK1")
    monkeypatch.setenv(BROKER_SECRET_KEY_ENV, "secret")
    orchestrator = LocalOrchestrator(tmp_path)
    monkeypatch.delenv("FARM_BROKER", raising=False)
    assert BROKER_SECRET_KEY_ENV not in orchestrator.child_env(RuntimeSpec())
    monkeypatch.setenv("FARM_BROKER", "alpaca")
    env = orchestrator.child_env(RuntimeSpec())
    assert env["FARM_BROKER"] == "alpaca" and env[BROKER_SECRET_KEY_ENV] == "secret"


def test_an_account_alpaca_refuses_to_open_leaves_no_record_so_a_retry_opens_it(tmp_path) -> None:
    documents = SqliteDocumentStore(tmp_path / "documents.sqlite3")
    with FakeAlpaca(key_id="CKRETRY", secret_key="right") as fake:
        refused = AlpacaBrokerAccounts(documents, BrokerApiConfig(AlpacaCredentials(fake.key_id, "wrong"), fake.url))
        with pytest.raises(TransientError, match="401"):
            refused.create_account("alice", "agent-1")
        assert documents.get(BROKER_ACCOUNTS, "alpaca-agent-1") is None

        accounts = AlpacaBrokerAccounts(documents, BrokerApiConfig(AlpacaCredentials(fake.key_id, "right"), fake.url))
        opened = accounts.create_account("alice", "agent-1")
        assert opened.account_id == "alpaca-agent-1" and alpaca_account_of(documents, opened.account_id)
