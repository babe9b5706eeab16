"""The broker-account routes over real HTTP, on both backends.

`local`: simulated accounts in the embedded document store. `gcp`: the same routes with
`AlpacaBrokerAccounts` talking to a local fake of Alpaca's Broker API through alpaca-py's
BrokerClient (only Alpaca's servers are fake; documents stay embedded).
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from shared.venues.alpaca.config import (
    BROKER_KEY_ID_ENV,
    BROKER_SECRET_KEY_ENV,
    BROKER_URL_ENV,
)
from tests.fakes.alpaca_server import FakeAlpaca
from tests.functions.agents_stack import Tokens, agent_source, local_platform, running_host

PLANTED_SECRET = "planted-broker-SECRET-91c2"


@dataclasses.dataclass
class Stack:
    url: str
    tokens: Tokens
    backend: str
    fake: FakeAlpaca | None


@pytest.fixture(scope="module", params=["local", "gcp"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp(f"broker-{request.param}")
    with pytest.MonkeyPatch.context() as env, FakeAlpaca(key_id="CKBROKER", secret_key=PLANTED_SECRET) as fake:
        venue = {}
        if request.param == "gcp":  # the venue gcp trades on (Alpaca's Broker API), over local stores
            venue = {"broker": "alpaca"}
            env.setenv(BROKER_KEY_ID_ENV, fake.key_id)
            env.setenv(BROKER_SECRET_KEY_ENV, fake.secret_key)
            env.setenv(BROKER_URL_ENV, fake.url)
        platform = local_platform(data_dir, redis_url, ("requests=1000/60", "submissions=100/60"), **venue)
        with running_host(platform) as host:
            yield Stack(host.url, Tokens(data_dir), request.param, fake if request.param == "gcp" else None)


def new_agent(stack: Stack, uid: str) -> str:
    code = agent_source(uuid.uuid4().int % 1_000_000)
    response = requests.post(stack.url + "/api/agents", json={"name": "sma", "code": code},
                             headers=stack.tokens.header(uid), timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["agent_id"]


def open_account(stack: Stack, uid: str, agent_id: str) -> requests.Response:
    return requests.post(stack.url + "/api/broker/accounts", json={"agent_id": agent_id},
                         headers=stack.tokens.header(uid), timeout=30)


def fund(stack: Stack, uid: str, account_id: str, key: str, body: dict[str, Any] | None = None) -> requests.Response:
    headers = stack.tokens.header(uid) | {"Idempotency-Key": key}
    return requests.post(f"{stack.url}/api/broker/accounts/{account_id}/funding", json=body or {},
                         headers=headers, timeout=30)


def user() -> str:
    return f"user-{uuid.uuid4().hex[:10]}"


def test_every_broker_route_refuses_a_request_without_a_token(stack: Stack) -> None:
    for method, path in (("POST", "/api/broker/accounts"), ("GET", "/api/broker/accounts/x"),
                         ("POST", "/api/broker/accounts/x/funding")):
        response = requests.request(method, stack.url + path, json={}, timeout=10)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "unauthenticated"


def test_an_owner_opens_funds_and_reads_the_agents_account(stack: Stack) -> None:
    uid = user()
    agent_id = new_agent(stack, uid)

    created = open_account(stack, uid, agent_id)
    assert created.status_code == 201, created.text
    account = created.json()
    assert (account["agent_id"], account["cash"], account["funded"]) == (agent_id, 0.0, False)
    assert account["provider"] == ("alpaca" if stack.backend == "gcp" else "simulated")
    again = open_account(stack, uid, agent_id)
    assert again.status_code == 200 and again.json()["account_id"] == account["account_id"]

    funded = fund(stack, uid, account["account_id"], "first")
    assert funded.status_code == 200, funded.text
    assert (funded.json()["cash"], funded.json()["funded_total"]) == (25_000.0, 25_000.0)

    shown = requests.get(f"{stack.url}/api/broker/accounts/{account['account_id']}",
                         headers=stack.tokens.header(uid), timeout=10)
    assert shown.status_code == 200
    assert shown.json()["cash"] == 25_000.0 and shown.json()["positions"] == []


def test_a_retried_funding_request_funds_once_even_when_concurrent(stack: Stack) -> None:
    uid = user()
    account_id = open_account(stack, uid, new_agent(stack, uid)).json()["account_id"]

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: fund(stack, uid, account_id, "retry-me", {"amount": 1000}), range(4)))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    assert fund(stack, uid, account_id, "another", {"amount": 500}).json()["cash"] == 1500.0
    if stack.fake is not None:  # Alpaca itself saw exactly two transfers
        transfers = [t for a in stack.fake.ledger.accounts.values() for t in a.transfers]
        assert sorted(float(t["amount"]) for t in transfers if t["amount"] in ("1000.0", "500.0")) == [500.0, 1000.0]


def test_other_users_get_404_for_the_agent_and_its_account(stack: Stack) -> None:
    owner, stranger = user(), user()
    agent_id = new_agent(stack, owner)
    account_id = open_account(stack, owner, agent_id).json()["account_id"]

    assert open_account(stack, stranger, agent_id).status_code == 404
    shown = requests.get(f"{stack.url}/api/broker/accounts/{account_id}", headers=stack.tokens.header(stranger),
                         timeout=10)
    assert shown.status_code == 404 and shown.json()["error"]["code"] == "not_found"
    assert fund(stack, stranger, account_id, "steal").status_code == 404
    assert requests.get(f"{stack.url}/api/broker/accounts/{account_id}", headers=stack.tokens.header(owner),
                        timeout=10).json()["cash"] == 0.0


@pytest.mark.parametrize(
    ("body", "key", "message"),
    [({"amount": -5}, "k", "amount"), ({"amount": "lots"}, "k", "amount"), ({"amount": 1e9}, "k", "amount"),
     ({}, "", "Idempotency-Key")],
)
def test_bad_funding_requests_are_400_with_a_clear_message(
    stack: Stack, body: dict[str, Any], key: str, message: str
) -> None:
    uid = user()
    account_id = open_account(stack, uid, new_agent(stack, uid)).json()["account_id"]
    response = fund(stack, uid, account_id, key, body)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


def test_opening_an_account_needs_an_agent_id(stack: Stack) -> None:
    uid = user()
    response = requests.post(stack.url + "/api/broker/accounts", json={}, headers=stack.tokens.header(uid), timeout=10)
    assert response.status_code == 400 and "agent_id" in response.json()["error"]["message"]


def test_the_broker_api_secret_never_appears_in_responses_or_logs(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    uid = user()
    agent_id = new_agent(stack, uid)
    bodies = [open_account(stack, uid, agent_id).text]
    account_id = open_account(stack, uid, agent_id).json()["account_id"]
    bodies.append(fund(stack, uid, account_id, "k1").text)
    for shown in (account_id, "nope"):
        bodies.append(requests.get(f"{stack.url}/api/broker/accounts/{shown}", headers=stack.tokens.header(uid),
                                   timeout=10).text)
    text = "\n".join(bodies) + caplog.text
    assert PLANTED_SECRET not in text
    assert "CKBROKER" not in "\n".join(bodies)
