"""The runtime's broker comes from FARM_BROKER: simulated locally, Alpaca (against a fake) when chosen."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from runtime.feeds import make_feed
from shared.adapters.local.orchestrator import LocalOrchestrator
from shared.errors import SettingsError
from shared.ports.orchestrator import RuntimeSpec
from shared.settings import Settings
from shared.venues import make_broker
from shared.venues.alpaca.execution import AlpacaBroker
from shared.venues.simulated.execution import SimulatedBroker
from tests.fakes.alpaca_server import FakeAlpaca
from tests.fixtures.common import make_warehouse
from tests.unit.runtime.stack import backtested_agent, local_platform, session_for


def test_the_local_backend_trades_on_the_simulated_broker_by_default(tmp_path: Path) -> None:
    platform = local_platform(tmp_path / "data", make_warehouse(tmp_path))
    session_id = session_for(platform, backtested_agent(platform), ["AAPL"])
    session = platform.documents.get("sessions", session_id)
    assert Settings().runtime_broker == "simulated"
    broker = make_broker(platform.settings, platform.documents, session, [make_feed("AAPL")], slippage=0.01)
    assert isinstance(broker, SimulatedBroker) and broker.p.slippage == 0.01
    broker.start()
    assert broker.getcash() == 25_000.0  # the funded account the session points at


def test_gcp_defaults_to_alpaca_and_an_unknown_broker_is_named_in_the_error() -> None:
    assert Settings(backend="gcp", gcp_project="p").runtime_broker == "alpaca"
    assert Settings(backend="gcp", gcp_project="p", broker="simulated").runtime_broker == "simulated"
    with pytest.raises(SettingsError, match="FARM_BROKER"):
        Settings.from_env({"FARM_BROKER": "interactive-brokers"})


def test_choosing_alpaca_builds_an_alpaca_broker_that_syncs_from_the_paper_account(monkeypatch, tmp_path) -> None:
    with FakeAlpaca(key_id="PKFACTORY", secret_key="s3cret", cash=50_000.0) as fake:
        monkeypatch.setenv("APCA_API_KEY_ID", "PKFACTORY")
        monkeypatch.setenv("APCA_API_SECRET_KEY", "s3cret")
        settings = Settings(broker="alpaca", alpaca_trading_url=fake.url, alpaca_trading_stream_url=fake.stream_url)
        broker = make_broker(settings, None, {"account_id": "unused"}, [make_feed("AAPL")])  # type: ignore[arg-type]
        assert isinstance(broker, AlpacaBroker)
        broker.start()
        try:
            assert broker.getcash() == 50_000.0
            deadline = time.monotonic() + 10  # the trade-updates stream authenticates with the same keys
            while not (broker.stream_connected and fake.listeners > 0) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert broker.stream_connected
        finally:
            broker.shutdown()


def test_choosing_alpaca_without_keys_names_the_missing_variable(monkeypatch) -> None:
    monkeypatch.delenv("APCA_API_KEY_ID", raising=False)
    monkeypatch.delenv("APCA_API_SECRET_KEY", raising=False)
    with pytest.raises(SettingsError, match="APCA_API_KEY_ID"):
        make_broker(Settings(broker="alpaca"), None, {}, [])  # type: ignore[arg-type]


def test_local_runtimes_get_alpaca_keys_only_when_they_trade_on_alpaca(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("APCA_API_KEY_ID", "PK1")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "secret")
    orchestrator = LocalOrchestrator(tmp_path)
    monkeypatch.delenv("FARM_BROKER", raising=False)
    assert "APCA_API_SECRET_KEY" not in orchestrator.child_env(RuntimeSpec())
    monkeypatch.setenv("FARM_BROKER", "alpaca")
    env = orchestrator.child_env(RuntimeSpec())
    assert env["FARM_BROKER"] == "alpaca" and env["APCA_API_SECRET_KEY"] == "secret"
