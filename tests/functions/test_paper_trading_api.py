"""Paper-trading routes over HTTP on a real host: auth, ownership, preconditions, rate limit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from shared.app import Application
from tests.functions.agents_stack import Tokens, local_platform, running_host
from tests.unit.runtime.stack import backtested_agent

ROUTE = "/api/agents/{}/paper-trading"


@pytest.fixture
def stack(tmp_path: Path, redis_url: str) -> Iterator[tuple[str, Application, Tokens]]:
    platform = local_platform(tmp_path / "data", redis_url)
    with running_host(platform) as host:
        yield f"http://127.0.0.1:{host.port}", platform, Tokens(tmp_path / "data")


def _uid(request: pytest.FixtureRequest) -> str:
    return f"u-{abs(hash(request.node.name)) % 10**8}"  # fresh rate-limit counters per test


def test_paper_trading_needs_a_token_and_hides_other_users_agents(stack, request) -> None:
    api, platform, tokens = stack
    owner = _uid(request)
    agent_id = backtested_agent(platform, uid=owner, agent_id=f"{owner}-a")
    assert requests.get(api + ROUTE.format(agent_id), timeout=5).status_code == 401
    other = tokens.header(owner + "-other")
    for method in ("GET", "POST", "DELETE"):
        response = requests.request(method, api + ROUTE.format(agent_id), headers=other, timeout=5)
        assert response.status_code == 404, method
        assert response.json()["error"]["code"] == "not_found"


def test_starting_needs_a_backtested_agent_and_a_funded_account(stack, request) -> None:
    api, platform, tokens = stack
    owner = _uid(request)
    headers = tokens.header(owner)
    unfunded = backtested_agent(platform, uid=owner, agent_id=f"{owner}-unfunded", fund=None)
    response = requests.post(api + ROUTE.format(unfunded), headers=headers, timeout=5)
    assert response.status_code == 409 and "funded" in response.json()["error"]["message"]
    stored = backtested_agent(platform, uid=owner, agent_id=f"{owner}-stored")
    platform.documents.update("agents", stored, {"status": "stored"})
    response = requests.post(api + ROUTE.format(stored), headers=headers, timeout=5)
    assert response.status_code == 409 and "backtested" in response.json()["error"]["message"]


def test_bad_start_bodies_are_400_and_a_missing_session_is_404(stack, request) -> None:
    api, platform, tokens = stack
    owner = _uid(request)
    headers = tokens.header(owner)
    agent_id = backtested_agent(platform, uid=owner, agent_id=f"{owner}-a")
    response = requests.post(api + ROUTE.format(agent_id), json={"symbols": "AAPL"}, headers=headers, timeout=5)
    assert response.status_code == 400
    response = requests.post(api + ROUTE.format(agent_id), json={"leverage": 3}, headers=headers, timeout=5)
    assert response.status_code == 400 and "leverage" in response.json()["error"]["message"]
    assert requests.get(api + ROUTE.format(agent_id), headers=headers, timeout=5).status_code == 404
    assert requests.delete(api + ROUTE.format(agent_id), headers=headers, timeout=5).status_code == 409


def test_a_fourth_start_within_a_minute_is_429_with_retry_after(stack, request) -> None:
    api, platform, tokens = stack
    owner = _uid(request)
    headers = tokens.header(owner)
    agent_id = backtested_agent(platform, uid=owner, agent_id=f"{owner}-a", fund=None)
    codes = [requests.post(api + ROUTE.format(agent_id), headers=headers, timeout=5).status_code for _ in range(4)]
    assert codes == [409, 409, 409, 429]
    response = requests.post(api + ROUTE.format(agent_id), headers=headers, timeout=5)
    assert int(response.headers["Retry-After"]) >= 1
