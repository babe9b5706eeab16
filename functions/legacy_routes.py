"""The earlier platform's routes, kept for its website during a migration (all deprecated).

    POST /api/agents/submit            -> POST /api/agents (multipart or JSON; `agentName` = name)
    GET  /api/agents/list              -> GET /api/agents
    GET  /api/agents/{id}/status       -> GET /api/agents/{id}
    POST /api/broker/create            -> POST /api/broker/accounts             {agent_id|agentId}
    POST /api/broker/fund              -> POST /api/broker/accounts/{account}/funding
                                          {account_id|agent_id, amount, idempotency_key?}
    GET  /api/broker/balance           -> GET /api/broker/accounts/{account}    ?account_id=|agent_id=
    GET  /api/broker/positions         -> the same account's `positions`
    POST /api/paper-trading/start      -> POST /api/agents/{id}/paper-trading   {agent_id, symbols?, timeframe?}
    POST /api/paper-trading/stop       -> DELETE /api/agents/{id}/paper-trading {agent_id}
    GET  /api/paper-trading/status     -> GET /api/agents/{id}/paper-trading    ?agent_id=
    GET  /api/leaderboard/user/{id}    -> GET /api/leaderboard/agents/{id}      (the id is an agent's)
    GET  /api/leaderboard/top/{n}      -> GET /api/leaderboard?limit=n
    GET  /api/fmel/analytics           -> GET /api/fmel/agents/{id}/analytics   ?agent_id=
    GET  /api/fmel/agent/{id}          -> GET /api/fmel/decisions?agent={id}

Every answer carries `Deprecation: true` and a `Link` to its successor (functions/edge/legacy.py).
"""

from __future__ import annotations

import json

import flask
import functions_framework

from functions import _platform
from functions.agent_item import agent_item
from functions.agents import agents_collection
from functions.broker_account_item import broker_account_item
from functions.broker_accounts import broker_accounts_collection
from functions.broker_funding import broker_funding
from functions.edge.http import http_endpoint
from functions.edge.legacy import account_id_from, agent_id_from, forward, legacy_body, without
from functions.fmel_analytics import fmel_agent_analytics
from functions.fmel_decisions import fmel_decisions
from functions.leaderboard import leaderboard_page
from functions.leaderboard_agent import leaderboard_agent
from functions.paper_trading import paper_trading_session
from shared.errors import NotFoundError

Response = flask.Response
ALIAS_KEYS = ("agent_id", "agentId", "account_id", "accountId")


@functions_framework.http
@http_endpoint("farm-legacy-agents-submit")
def legacy_agents_submit(request: flask.Request) -> Response:
    """Submit an agent (the body is passed through untouched)."""
    return forward(request, agents_collection, "POST", "/api/agents", keep_body=True)


@functions_framework.http
@http_endpoint("farm-legacy-agents-list")
def legacy_agents_list(request: flask.Request) -> Response:
    """The caller's agents."""
    return forward(request, agents_collection, "GET", "/api/agents")


@functions_framework.http
@http_endpoint("farm-legacy-agent-status")
def legacy_agent_status(request: flask.Request, agent_id: str) -> Response:
    """One agent with its status."""
    return forward(request, agent_item, "GET", f"/api/agents/{agent_id}", query={})


@functions_framework.http
@http_endpoint("farm-legacy-broker-create")
def legacy_broker_create(request: flask.Request) -> Response:
    """Open the agent's paper account."""
    body = legacy_body(request)
    return forward(request, broker_accounts_collection, "POST", "/api/broker/accounts", query={},
                   body={"agent_id": agent_id_from(body)})


@functions_framework.http
@http_endpoint("farm-legacy-broker-fund")
def legacy_broker_fund(request: flask.Request) -> Response:
    """Fund an account; without an idempotency key the same amount funds once."""
    body = legacy_body(request)
    account_id = _account_id(request, body)
    funding = without(body, *ALIAS_KEYS)
    if "idempotency_key" not in funding and not request.headers.get("Idempotency-Key"):
        # The old site sent none; one per (account, amount) keeps a retried click from funding twice.
        funding["idempotency_key"] = f"legacy-{account_id}-{json.dumps(funding.get('amount'))}"
    return forward(request, broker_funding, "POST", f"/api/broker/accounts/{account_id}/funding", query={},
                   body=funding)


@functions_framework.http
@http_endpoint("farm-legacy-broker-balance")
def legacy_broker_balance(request: flask.Request) -> Response:
    """The account's balance (the whole account)."""
    account_id = _account_id(request, request.args)
    return forward(request, broker_account_item, "GET", f"/api/broker/accounts/{account_id}", query={})


@functions_framework.http
@http_endpoint("farm-legacy-broker-positions")
def legacy_broker_positions(request: flask.Request) -> Response:
    """The account's positions."""
    account_id = _account_id(request, request.args)
    response = forward(request, broker_account_item, "GET", f"/api/broker/accounts/{account_id}", query={})
    if response.status_code == 200:
        account = response.get_json()
        response.set_data(json.dumps({"account_id": account["account_id"], "positions": account["positions"]}))
    return response


@functions_framework.http
@http_endpoint("farm-legacy-paper-start")
def legacy_paper_start(request: flask.Request) -> Response:
    """Start paper trading."""
    body = legacy_body(request)
    agent_id = agent_id_from(body)
    return forward(request, paper_trading_session, "POST", f"/api/agents/{agent_id}/paper-trading", query={},
                   body=without(body, *ALIAS_KEYS))


@functions_framework.http
@http_endpoint("farm-legacy-paper-stop")
def legacy_paper_stop(request: flask.Request) -> Response:
    """Stop paper trading."""
    agent_id = agent_id_from(legacy_body(request))
    return forward(request, paper_trading_session, "DELETE", f"/api/agents/{agent_id}/paper-trading", query={})


@functions_framework.http
@http_endpoint("farm-legacy-paper-status")
def legacy_paper_status(request: flask.Request) -> Response:
    """The session's status."""
    agent_id = agent_id_from(request.args)
    return forward(request, paper_trading_session, "GET", f"/api/agents/{agent_id}/paper-trading", query={})


@functions_framework.http
@http_endpoint("farm-legacy-leaderboard-user")
def legacy_leaderboard_user(request: flask.Request, agent_id: str) -> Response:
    """One agent's standing."""
    return forward(request, leaderboard_agent, "GET", f"/api/leaderboard/agents/{agent_id}")


@functions_framework.http
@http_endpoint("farm-legacy-leaderboard-top")
def legacy_leaderboard_top(request: flask.Request, n: int) -> Response:
    """The top `n` agents."""
    return forward(request, leaderboard_page, "GET", "/api/leaderboard", query={**request.args, "limit": str(n)})


@functions_framework.http
@http_endpoint("farm-legacy-fmel-analytics")
def legacy_fmel_analytics(request: flask.Request) -> Response:
    """One agent's decision analytics."""
    agent_id = agent_id_from(request.args)
    return forward(request, fmel_agent_analytics, "GET", f"/api/fmel/agents/{agent_id}/analytics",
                   query=without(request.args, *ALIAS_KEYS))


@functions_framework.http
@http_endpoint("farm-legacy-fmel-agent")
def legacy_fmel_agent(request: flask.Request, agent_id: str) -> Response:
    """One agent's decisions."""
    return forward(request, fmel_decisions, "GET", "/api/fmel/decisions",
                   query={**without(request.args, "agent"), "agent": agent_id})


def _account_id(request: flask.Request, values: object) -> str:
    # The old site named the agent; the account is found as its owner's (a token is needed).
    found = account_id_from(values)  # type: ignore[arg-type]
    if found:
        return found
    agent_id = agent_id_from(values)  # type: ignore[arg-type]
    platform = _platform.platform()
    caller = platform.identity.verify(request.headers.get("Authorization", ""))
    account = platform.broker_accounts.account_for_agent(caller.uid, agent_id)
    if account is None:
        raise NotFoundError(f"agent {agent_id} has no broker account")
    return account.account_id
