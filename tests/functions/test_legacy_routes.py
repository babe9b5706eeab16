"""The earlier platform's routes over real HTTP: each answers what its modern twin answers,
marked deprecated (`Deprecation: true`, a `Link` to the successor)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from shared.app import Application
from shared.domain.lifecycle import AgentStatus
from shared.schemas.warehouse import BACKTEST_RUNS
from shared.services.standard_evaluation import COLLECTION, DOC_ID, StandardEvaluation
from tests.fixtures.agents import agent_in, store_agent
from tests.functions.agents_stack import Tokens, agent_source, local_platform, running_host
from tests.functions.analytics_stack import decisions
from tests.unit.runtime.stack import backtested_agent

USER = "legacy-user"
LIMITS = tuple(f"{c}=100000/60" for c in ("requests", "submissions", "backtests", "paper_starts"))
STD = StandardEvaluation(("AAPL",), "2023-01-02", "2025-01-02")


@pytest.fixture
def stack(tmp_path: Path, redis_url: str) -> Iterator[tuple[str, dict[str, str], Application]]:
    platform = local_platform(tmp_path / "data", redis_url, LIMITS)
    with running_host(platform) as host:  # closing the application stops the runtimes too
        yield host.url, Tokens(tmp_path / "data").header(USER), platform


def _pair(url: str, auth: dict[str, str], legacy: tuple[str, str, dict[str, Any]],
          modern: tuple[str, str, dict[str, Any]]) -> tuple[requests.Response, requests.Response]:
    old = requests.request(legacy[0], url + legacy[1], headers=auth, timeout=60, **legacy[2])
    new = requests.request(modern[0], url + modern[1], headers=auth, timeout=60, **modern[2])
    assert old.headers.get("Deprecation") == "true", (legacy, old.status_code, old.text)
    assert "successor-version" in old.headers["Link"]
    assert "Deprecation" not in new.headers
    return old, new


def _same(old: requests.Response, new: requests.Response, *ignored: str) -> None:
    assert (old.status_code, new.status_code) == (200, 200), (old.text, new.text)
    a, b = old.json(), new.json()
    for key in ignored:
        a.pop(key, None), b.pop(key, None)
    assert a == b


def test_agent_routes_submit_list_and_status_answer_as_their_twins(stack) -> None:
    url, auth, _ = stack
    submitted = requests.post(url + "/api/agents/submit", headers=auth, timeout=60,
                              data={"agentName": "MyFirstAgent"},
                              files={"file": ("my_strategy.py", agent_source(41).encode(), "text/x-python")})
    assert submitted.status_code == 201, submitted.text
    assert submitted.headers["Deprecation"] == "true" and set(submitted.json()) == {"agent_id", "status"}
    agent_id = submitted.json()["agent_id"]
    # The automatic backtest moves the agent between the two reads: compare what cannot move.
    moving = ("status", "history", "latest_backtest", "standard_backtest", "updated_at")
    old, new = _pair(url, auth, ("GET", "/api/agents/list", {"params": {"limit": 5}}),
                     ("GET", "/api/agents", {"params": {"limit": 5}}))
    for body in (old.json(), new.json()):
        assert [a["agent_id"] for a in body["agents"]] == [agent_id]
    assert [{k: v for k, v in a.items() if k not in moving} for a in old.json()["agents"]] == [
        {k: v for k, v in a.items() if k not in moving} for a in new.json()["agents"]]
    old, new = _pair(url, auth, ("GET", f"/api/agents/{agent_id}/status", {}), ("GET", f"/api/agents/{agent_id}", {}))
    _same(old, new, *moving)
    assert old.json()["name"] == "MyFirstAgent"  # agentName is the name
    json_submit = requests.post(url + "/api/agents/submit", headers=auth, timeout=60,
                                json={"agentName": "json-one", "code": agent_source(42)})
    assert json_submit.status_code == 201, json_submit.text
    duplicate = requests.post(url + "/api/agents/submit", headers=auth, timeout=60,
                              json={"agentName": "again", "code": agent_source(42)})
    assert duplicate.status_code == 409 and "json-one" in duplicate.json()["error"]["message"]


def test_broker_and_paper_trading_routes_answer_as_their_twins(stack) -> None:
    url, auth, platform = stack
    agent_id = uuid.uuid4().hex
    backtested_agent(platform, uid=USER, agent_id=agent_id, fund=None)
    created = requests.post(url + "/api/broker/create", json={"agentId": agent_id}, headers=auth, timeout=30)
    assert created.status_code == 200 and created.headers["Deprecation"] == "true", created.text  # opened by the helper
    again = requests.post(url + "/api/broker/accounts", json={"agent_id": agent_id}, headers=auth, timeout=30)
    assert again.status_code == 200 and again.json() == created.json()
    account_id = created.json()["account_id"]
    funded = requests.post(url + "/api/broker/fund", json={"agent_id": agent_id, "amount": 10_000},
                           headers=auth, timeout=30)
    assert funded.status_code == 200 and funded.json()["cash"] == 10_000, funded.text
    repeat = requests.post(url + "/api/broker/fund", json={"account_id": account_id, "amount": 10_000},
                           headers=auth, timeout=30)
    assert repeat.json()["cash"] == 10_000  # a retried old-site click funds once
    _same(*_pair(url, auth, ("GET", "/api/broker/balance", {"params": {"account_id": account_id}}),
                 ("GET", f"/api/broker/accounts/{account_id}", {})))
    old, new = _pair(url, auth, ("GET", "/api/broker/positions", {"params": {"agentId": agent_id}}),
                     ("GET", f"/api/broker/accounts/{account_id}", {}))
    assert old.json() == {"account_id": account_id, "positions": new.json()["positions"]}

    started = requests.post(url + "/api/paper-trading/start", json={"agentId": agent_id, "symbols": ["AAPL"]},
                            headers=auth, timeout=30)
    assert started.status_code == 201 and started.headers["Deprecation"] == "true", started.text
    old, new = _pair(url, auth, ("GET", "/api/paper-trading/status", {"params": {"agent_id": agent_id}}),
                     ("GET", f"/api/agents/{agent_id}/paper-trading", {}))
    assert old.json()["session_id"] == new.json()["session_id"] == started.json()["session_id"]
    _same(old, new, "heartbeat_at", "updated_at", "state", "portfolio_value", "cash", "positions",
          "decisions", "last_decision_point", "started_at", "trades", "recent_trades", "market")
    stopped = requests.post(url + "/api/paper-trading/stop", json={"agent_id": agent_id}, headers=auth, timeout=90)
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped", stopped.text
    final = requests.get(f"{url}/api/agents/{agent_id}/paper-trading", headers=auth, timeout=30).json()
    assert final["state"] == "stopped" and final["session_id"] == stopped.json()["session_id"]
    missing = requests.get(url + "/api/paper-trading/status", headers=auth, timeout=30)
    assert missing.status_code == 400 and "agent_id" in missing.json()["error"]["message"]


def test_leaderboard_and_fmel_routes_answer_as_their_twins(stack) -> None:
    url, auth, platform = stack
    platform.documents.create(COLLECTION, DOC_ID, STD.to_json())
    agents = [uuid.uuid4().hex for _ in range(3)]
    for i, agent_id in enumerate(agents):
        store_agent(platform.documents, agent_in(AgentStatus.BACKTESTED, agent_id, owner_uid=USER, name=f"a{i}"))
    now = datetime.now(UTC)
    platform.warehouse.insert_rows(BACKTEST_RUNS.ref, [
        {"run_id": f"{a}-auto", "agent_id": a, "user_id": USER, "agent_name": f"a{i}", "code_hash": a,
         "status": "succeeded", "start_date": date.fromisoformat(STD.start), "end_date": date.fromisoformat(STD.end),
         "timeframe": "1Day", "finished_at": now - timedelta(hours=i), "total_return": i / 10, "sharpe": 1.0 + i,
         "max_drawdown": 0.1, "win_rate": 0.5, "trades": 10, "bars": 300}
        for i, a in enumerate(agents)
    ])
    platform.warehouse.insert_rows("fmel.decisions", decisions(agents[0], USER, "s-1", "backtest", 9))
    old, new = _pair(url, {}, ("GET", "/api/leaderboard/top/2", {"params": {"metric": "return"}}),
                     ("GET", "/api/leaderboard", {"params": {"metric": "return", "limit": 2}}))
    _same(old, new, "source")
    assert [e["agent_id"] for e in old.json()["entries"]] == [agents[2], agents[1]]
    _same(*_pair(url, {}, ("GET", f"/api/leaderboard/user/{agents[1]}", {}),
                 ("GET", f"/api/leaderboard/agents/{agents[1]}", {})), "source")
    _same(*_pair(url, auth, ("GET", "/api/fmel/analytics", {"params": {"agent_id": agents[0]}}),
                 ("GET", f"/api/fmel/agents/{agents[0]}/analytics", {})))
    old, new = _pair(url, auth, ("GET", f"/api/fmel/agent/{agents[0]}", {"params": {"limit": 4}}),
                     ("GET", "/api/fmel/decisions", {"params": {"agent": agents[0], "limit": 4}}))
    _same(old, new)
    assert len(old.json()["decisions"]) == 4
