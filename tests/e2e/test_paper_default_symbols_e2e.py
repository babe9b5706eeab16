"""Paper trading started with no symbols reaches its first decision on the local market, at any
hour: the real replay server (closed hours skipped) -> the real ingester -> the bus -> a real
runtime subscribed to the 16-symbol default universe (a filter within Pub/Sub's 256 bytes)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from farm.host import FunctionHost
from farm.market_feed import MarketFeed
from shared.app import Application
from shared.market.universe import DEFAULT_SYMBOLS
from shared.schemas.collections import AGENTS, SESSIONS
from tests.fixtures.common import make_warehouse
from tests.functions.agents_stack import Tokens
from tests.unit.runtime.stack import backtested_agent, local_platform


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, Application, dict[str, str]]]:
    data_dir = tmp_path / "data"
    platform = local_platform(data_dir, make_warehouse(data_dir))
    feed = MarketFeed(platform, speed=120.0).start()  # two market minutes per second
    host = FunctionHost(platform, port=0).start()
    try:
        yield host.url, platform, Tokens(data_dir).header("alice")
    finally:
        host.stop()
        feed.stop()
        platform.close()  # runtimes first (SIGTERM, they flush), then the stores


def test_a_session_started_without_symbols_makes_its_first_decision_within_seconds(stack) -> None:
    url, platform, auth = stack
    agent_id = uuid.uuid4().hex
    backtested_agent(platform, agent_id=agent_id)
    platform.documents.update(AGENTS, agent_id, {"latest_backtest": None})
    started_at = time.monotonic()
    started = requests.post(f"{url}/api/agents/{agent_id}/paper-trading", headers=auth, timeout=30)
    assert started.status_code == 201, started.text
    assert started.json()["symbols"] == sorted(DEFAULT_SYMBOLS)
    session_id = started.json()["session_id"]
    deadline = time.monotonic() + 90
    session: dict = {}
    while time.monotonic() < deadline:
        session = platform.documents.get(SESSIONS, session_id) or {}
        if session.get("decisions", 0) >= 1 or session.get("state") == "failed":
            break
        time.sleep(0.2)
    assert session.get("decisions", 0) >= 1, session
    print(f"\nfirst paper decision {time.monotonic() - started_at:.1f}s after the start")
    status = requests.get(f"{url}/api/agents/{agent_id}/paper-trading", headers=auth, timeout=30).json()
    assert status["market"]["clock"] == "replay" and status["data"]["synthetic"] is True
    assert requests.delete(f"{url}/api/agents/{agent_id}/paper-trading", headers=auth, timeout=60).status_code == 200
