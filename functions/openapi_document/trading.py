"""OpenAPI operations and schemas of the backtest, broker-account and paper-trading routes.

Merged into the document by functions/openapi_document. Fields follow the services' views:
shared.services.backtests.get_backtest, BrokerAccount.to_json and
shared.services.paper_trading.session_view.
"""

from __future__ import annotations

from typing import Any

from functions.openapi_document.common import (
    AUTHED,
    BAD_ID,
    INTEGER,
    JSON,
    NUMBER,
    STRING,
    error,
    nullable,
    ok,
    path_param,
    ref,
)
from shared.domain.running_sessions import MAX_RUNNING_SESSIONS
from shared.domain.timeframe import TIMEFRAMES as PAPER_TIMEFRAMES
from shared.market.bars import TIMEFRAMES as BACKTEST_TIMEFRAMES
from shared.ports.broker import DEFAULT_FUNDING
from shared.services.backtests import FAILED, QUEUED, RUNNING, SUCCEEDED
from shared.services.backtests import MAX_SYMBOLS as MAX_BACKTEST_SYMBOLS
from shared.services.broker_accounts import MAX_FUNDING, MAX_KEY_LENGTH
from shared.services.paper_trading import MAX_SYMBOLS as MAX_PAPER_SYMBOLS


def _json_body(schema: str) -> dict[str, Any]:
    # Every body here is optional: an empty request takes the documented defaults.
    return {"required": False, "content": {JSON: {"schema": ref(schema)}}}


LOCATION = {"Location": {"schema": {"type": "string"}, "description": "where to read the created resource"}}
TIMESTAMP = nullable({"type": "string"})
SYMBOL = {"type": "string", "minLength": 1, "pattern": r"\S"}

SCHEMAS: dict[str, Any] = {
    "BacktestRequest": {
        "type": "object",
        "additionalProperties": False,
        "description": "Every field is optional; defaults: the platform universe, the last 2 years of "
                       "daily bars, $25,000 cash, commission 0.",
        "properties": {
            "symbols": {"type": "array", "items": SYMBOL, "maxItems": MAX_BACKTEST_SYMBOLS},
            "start": {"type": "string", "format": "date", "description": "inclusive; before end"},
            "end": {"type": "string", "format": "date", "description": "exclusive"},
            "cash": {"type": "number", "exclusiveMinimum": True, "minimum": 0},
            "commission": {"type": "number", "minimum": 0, "exclusiveMaximum": True, "maximum": 1},
            "timeframe": {"type": "string", "enum": list(BACKTEST_TIMEFRAMES)},
        },
    },
    "BacktestQueued": {
        "type": "object",
        "required": ["run_id", "status"],
        "properties": {"run_id": STRING, "status": {"type": "string", "enum": [QUEUED]}},
    },
    "Backtest": {
        "type": "object",
        "required": ["run_id", "agent_id", "status"],
        "properties": {
            "run_id": STRING,
            "agent_id": STRING,
            "status": {"type": "string", "enum": [QUEUED, RUNNING, SUCCEEDED, FAILED]},
            "request": nullable({"type": "object", "description": "the RunBacktest: symbols, window, cash..."}),
            "metrics": nullable({"type": "object", "additionalProperties": {"nullable": True}}),
            "error": nullable(STRING) | {"description": "why the run failed"},
            "report_key": nullable(STRING),
            "created_at": TIMESTAMP,
            "started_at": TIMESTAMP,
            "finished_at": TIMESTAMP,
            "automatic": nullable({"type": "boolean"}),
            "standard": {"type": "boolean", "description": "the agent's standard evaluation: the only run ranked"},
            "evaluation": nullable({"type": "object", "description": "the StandardEvaluation it ran"}),
            "data": {"allOf": [ref("DataLabel")], "nullable": True},
            "equity_curve": nullable({"type": "array", "items": {"type": "object"}}),
            "drawdown": nullable({"type": "array", "items": {"type": "object"}}),
            "trades": nullable({"type": "array", "items": {"type": "object"}}),
            "chart_key": nullable(STRING),
        },
    },
    "BrokerAccountRequest": {
        "type": "object",
        "required": ["agent_id"],
        "properties": {"agent_id": {"type": "string", "minLength": 1}},
    },
    "Funding": {
        "type": "object",
        "properties": {
            "amount": {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": MAX_FUNDING,
                       "default": DEFAULT_FUNDING},
            "idempotency_key": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH,
                                "description": "used when no Idempotency-Key header is sent"},
        },
    },
    "Holding": {
        "type": "object",
        "required": ["symbol", "size", "price"],
        "properties": {"symbol": STRING, "size": NUMBER, "price": NUMBER, "value": NUMBER},
    },
    "TradeFill": {
        "type": "object",
        "required": ["symbol", "side", "size", "price", "commission", "at", "order_id"],
        "properties": {"symbol": STRING, "side": {"type": "string", "enum": ["buy", "sell"]}, "size": NUMBER,
                       "price": NUMBER, "commission": NUMBER, "at": STRING, "order_id": STRING},
    },
    "BrokerAccount": {
        "type": "object",
        "required": ["account_id", "agent_id", "provider", "status", "cash", "funded_total", "funded",
                     "positions", "recent_trades", "trades"],
        "properties": {
            "account_id": STRING,
            "agent_id": STRING,
            "provider": {"type": "string", "enum": ["simulated", "alpaca"]},
            "status": {"type": "string", "enum": ["created", "funded", "closed"]},
            "cash": NUMBER,
            "funded_total": NUMBER,
            "funded": {"type": "boolean"},
            "positions": {"type": "array", "items": ref("Holding")},
            "recent_trades": {"type": "array", "items": ref("TradeFill")},
            "trades": INTEGER,
        },
    },
    "PaperTradingRequest": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "symbols": {"type": "array", "items": SYMBOL, "minItems": 1, "maxItems": MAX_PAPER_SYMBOLS,
                        "description": "default: the symbols of the agent's latest backtest"},
            "timeframe": {"type": "string", "enum": list(PAPER_TIMEFRAMES), "default": "1Min"},
        },
    },
    "PaperSession": {
        "type": "object",
        "required": ["session_id", "agent_id", "state"],
        "properties": {
            "session_id": STRING,
            "agent_id": STRING,
            "state": {"type": "string", "description": "deploying, trading, pausing, paused, stopping, stopped, "
                      "failed, or interrupted (its runtime stopped with the local stack; `farm up` resumes it)"},
            "market": ref("MarketStatus"),
            "data": ref("DataLabel"),
            "paused_at": TIMESTAMP,
            "resumed_at": TIMESTAMP,
            "last_restart_reason": nullable(STRING),
            "symbols": {"type": "array", "items": STRING},
            "timeframe": STRING,
            "account_id": STRING,
            "portfolio_value": nullable(NUMBER),
            "cash": nullable(NUMBER),
            "starting_value": nullable(NUMBER),
            "positions": {"type": "array", "items": ref("Holding")},
            "recent_trades": {"type": "array", "items": ref("TradeFill")},
            "trades": INTEGER,
            "decisions": INTEGER,
            "last_decision_point": INTEGER,
            "lost_decisions": INTEGER,
            "restarts": INTEGER,
            "heartbeat_at": TIMESTAMP,
            "heartbeat_age_s": {**nullable(NUMBER), "description": "seconds since the runtime last reported"},
            "runtime": {"type": "string", "enum": ["starting", "running", "unresponsive", "none"],
                        "description": "unresponsive: trading, but no heartbeat for over a minute"},
            "started_at": TIMESTAMP,
            "stopped_at": TIMESTAMP,
            "error": nullable(STRING),
            "created_at": STRING,
            "updated_at": STRING,
        },
    },
}

OPERATIONS: dict[str, dict[str, Any]] = {
    "/api/agents/{agent_id}/backtests": {"post": {
        "operationId": "startBacktest",
        "summary": "Queue a backtest of one of the caller's agents",
        "parameters": [path_param("agent_id")],
        "requestBody": _json_body("BacktestRequest"),
        "responses": {
            "202": {**ok("Queued; poll the Location", "BacktestQueued"), "headers": LOCATION},
            "400": error("Unknown field, bad symbols, dates, cash, commission or timeframe, or an unusable agent id"),
            "404": error("No such agent (or not yours)"),
            "409": error("The agent is not validated (rejected): it cannot be backtested"),
            "415": error("A body that is not application/json"),
            **AUTHED,
        },
    }},
    "/api/backtests/{run_id}": {"get": {
        "operationId": "getBacktest",
        "summary": "A run's status and results (metrics, equity curve, drawdown, trades)",
        "parameters": [path_param("run_id")],
        "responses": {"200": ok("The run", "Backtest"), "400": BAD_ID,
                      "404": error("No such run (or not yours)"), **AUTHED},
    }},
    "/api/broker/accounts": {"post": {
        "operationId": "openBrokerAccount",
        "summary": "Open the paper account of one of the caller's agents (one per agent)",
        "requestBody": {"required": True, "content": {JSON: {"schema": ref("BrokerAccountRequest")}}},
        "responses": {
            "201": ok("Opened", "BrokerAccount"),
            "200": ok("The agent already had this account", "BrokerAccount"),
            "400": error("agent_id missing, or not a JSON object"),
            "404": error("No such agent (or not yours)"),
            "415": error("Not application/json"),
            **AUTHED,
        },
    }},
    "/api/broker/accounts/{account_id}": {"get": {
        "operationId": "getBrokerAccount",
        "summary": "Balance, positions and recent trades of one of the caller's accounts",
        "parameters": [path_param("account_id")],
        "responses": {"200": ok("The account", "BrokerAccount"), "400": BAD_ID,
                      "404": error("No such account (or not yours)"), **AUTHED},
    }},
    "/api/broker/accounts/{account_id}/funding": {"post": {
        "operationId": "fundBrokerAccount",
        "summary": f"Add cash (default ${DEFAULT_FUNDING:,.0f}) once per idempotency key",
        "parameters": [path_param("account_id"), {
            "name": "Idempotency-Key", "in": "header", "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
            "description": "required unless the body has idempotency_key; a repeat funds once"}],
        "requestBody": _json_body("Funding"),
        "responses": {
            "200": ok("The funded account", "BrokerAccount"),
            "400": error("Bad amount, missing or too long idempotency key, or a body that is not a JSON object"),
            "404": error("No such account (or not yours)"),
            **AUTHED,
        },
    }},
    "/api/agents/{agent_id}/paper-trading": {
        "post": {
            "operationId": "startPaperTrading",
            "summary": "Start paper trading (needs a backtested agent and a funded account)",
            "parameters": [path_param("agent_id")],
            "requestBody": _json_body("PaperTradingRequest"),
            "responses": {
                "201": ok("Deploying", "PaperSession"),
                "400": error("Unknown field, bad symbols or timeframe, symbols the market feed does not "
                              "stream, or an unusable agent id"),
                "404": error("No such agent (or not yours)"),
                "409": error(f"Not backtested, no funded account, or already {MAX_RUNNING_SESSIONS} "
                              "sessions running"),
                "415": error("A body that is not application/json"),
                **AUTHED,
            },
        },
        "get": {
            "operationId": "getPaperTrading",
            "summary": "The agent's latest session: state, value, positions, recent trades, heartbeat",
            "parameters": [path_param("agent_id")],
            "responses": {"200": ok("The session", "PaperSession"), "400": BAD_ID,
                          "404": error("No such agent (or not yours), or it never paper traded"), **AUTHED},
        },
        "delete": {
            "operationId": "stopPaperTrading",
            "summary": "Stop the agent's session (waits for the runtime's graceful exit)",
            "parameters": [path_param("agent_id")],
            "responses": {"200": ok("Stopped", "PaperSession"), "400": BAD_ID,
                          "404": error("No such agent (or not yours)"),
                          "409": error("The agent is not paper trading"), **AUTHED},
        },
    },
}
