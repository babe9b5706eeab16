"""Paper trading that works with the defaults, over real HTTP with real runtime subprocesses:
the default universe subscribes and decides, pause and resume keep the session and its
numbering, the agent's output is readable by its owner, an unstreamed symbol is refused at
start, a runtime failure says why, and optional bodies may be empty JSON."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from farm.host import FunctionHost
from shared.app import Application
from shared.market.universe import DEFAULT_SYMBOLS
from shared.schemas.collections import AGENTS, SESSIONS
from tests.fixtures.common import make_warehouse, wait_for
from tests.functions.agents_stack import Tokens
from tests.unit.runtime.stack import backtested_agent, local_platform, publish_bars

EMPTY_JSON = {"Content-Type": "application/json"}


@pytest.fixture
def host(tmp_path: Path) -> Iterator[tuple[str, Application, dict[str, str]]]:
    data_dir = tmp_path / "data"
    platform = local_platform(data_dir, make_warehouse(data_dir))
    served = FunctionHost(platform, port=0).start()
    try:
        yield served.url, platform, Tokens(data_dir).header("alice")
    finally:
        served.stop()
        platform.close()  # stops the runtimes it started, then closes the stores



def session(platform: Application, agent_id: str) -> dict[str, Any]:
    sid = (platform.documents.get(AGENTS, agent_id) or {}).get("paper_session")
    return (platform.documents.get(SESSIONS, sid) or {}) if sid else {}


def test_the_default_universe_subscribes_and_decides_and_pause_resume_keep_the_numbering(host) -> None:
    url, platform, auth = host
    agent_id = uuid.uuid4().hex
    backtested_agent(platform, agent_id=agent_id)
    platform.documents.update(AGENTS, agent_id, {"latest_backtest": None})  # no symbols of its own
    route = f"{url}/api/agents/{agent_id}/paper-trading"
    started = requests.post(route, headers={**auth, **EMPTY_JSON}, timeout=30)  # JSON, empty body
    assert started.status_code == 201, started.text
    assert started.json()["symbols"] == sorted(DEFAULT_SYMBOLS)  # 16 symbols: a 464-byte symbol filter once
    wait_for(lambda: session(platform, agent_id).get("state") == "trading", 30, "the runtime trading")
    for symbol in DEFAULT_SYMBOLS:
        publish_bars(platform.messages, symbol, range(4))
    first = wait_for(lambda: (s := session(platform, agent_id)).get("decisions", 0) >= 2 and s, 30, "decisions")
    status = requests.get(route, headers=auth, timeout=30).json()
    assert status["market"]["clock"] == "replay" and status["market"]["open"] is True
    assert status["data"]["synthetic"] is True

    paused = requests.post(route + "/pause", headers={**auth, **EMPTY_JSON}, timeout=60)
    assert paused.status_code == 200 and paused.json()["state"] == "paused", paused.text
    assert platform.documents.get(AGENTS, agent_id)["status"] == "paused"
    assert requests.post(route + "/pause", headers=auth, timeout=30).status_code == 409
    resumed = requests.post(route + "/resume", headers=auth, timeout=30)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["session_id"] == first_session_id(first, platform, agent_id)
    wait_for(lambda: session(platform, agent_id).get("state") == "trading", 30, "trading again")
    assert platform.documents.get(AGENTS, agent_id)["status"] == "trading"
    for symbol in DEFAULT_SYMBOLS:
        publish_bars(platform.messages, symbol, range(4, 8))
    wait_for(lambda: session(platform, agent_id).get("last_decision_point", 0) > first["last_decision_point"],
             30, "decisions after the resume")

    output = requests.get(route + "/output", headers=auth, timeout=30)
    assert output.status_code == 200 and output.json()["source"].startswith("process log")
    bob = Tokens(platform.settings.data_dir).header("bob")
    assert requests.get(route + "/output", headers=bob, timeout=30).status_code == 404
    assert requests.delete(route, headers=auth, timeout=60).json()["state"] == "stopped"


def first_session_id(first: dict[str, Any], platform: Application, agent_id: str) -> str:
    return platform.documents.get(AGENTS, agent_id)["paper_session"]


def test_a_symbol_the_feed_does_not_stream_is_refused_at_start(host) -> None:
    url, platform, auth = host
    agent_id = uuid.uuid4().hex
    backtested_agent(platform, agent_id=agent_id)
    refused = requests.post(f"{url}/api/agents/{agent_id}/paper-trading", json={"symbols": ["AAPL", "NOPE"]},
                            headers=auth, timeout=30)
    assert refused.status_code == 400
    assert "no market data is streamed for NOPE" in refused.json()["error"]["message"]
    assert platform.documents.get(AGENTS, agent_id)["status"] == "backtested"  # nothing started


def test_a_failed_runtime_says_why_in_the_session_status(host) -> None:
    url, platform, auth = host
    agent_id = uuid.uuid4().hex
    backtested_agent(platform, agent_id=agent_id)
    # Its bundle is gone: the runtime cannot start, every restart fails the same way.
    platform.blobs.delete(platform.documents.get(AGENTS, agent_id)["bundle_key"])
    route = f"{url}/api/agents/{agent_id}/paper-trading"
    assert requests.post(route, json={"symbols": ["AAPL"]}, headers=auth, timeout=30).status_code == 201
    wait_for(lambda: session(platform, agent_id).get("state") == "failed", 90, "the runtime to fail after its restarts")
    failed = requests.get(route, headers=auth, timeout=30).json()
    assert failed["error"].startswith("runtime exited with 1 after 3 restarts: Traceback"), failed["error"]
    assert "NotFoundError" in failed["error"] and "bundle.zip" in failed["error"]  # the real cause
    assert "exited with 1: Traceback" in failed["last_restart_reason"]
    output = requests.get(route + "/output", headers=auth, timeout=30).json()
    assert "NotFoundError" in output["text"]


def test_optional_json_bodies_may_be_empty(host) -> None:
    url, platform, auth = host
    agent_id = uuid.uuid4().hex
    backtested_agent(platform, agent_id=agent_id)
    queued = requests.post(f"{url}/api/agents/{agent_id}/backtests", headers={**auth, **EMPTY_JSON}, timeout=30)
    assert queued.status_code == 202, queued.text
    account = requests.post(f"{url}/api/broker/accounts", json={"agent_id": agent_id}, headers=auth, timeout=30)
    funding = requests.post(f"{url}/api/broker/accounts/{account.json()['account_id']}/funding",
                            headers={**auth, **EMPTY_JSON, "Idempotency-Key": "k1"}, timeout=30)
    assert funding.status_code == 200, funding.text
