"""OpenAPI operations and schemas of an agent's runs, a run's chart and output, and the paper
session's pause, resume and output (merged into the document by functions/openapi_document)."""

from __future__ import annotations

from typing import Any

from functions.openapi_document.common import (
    AUTHED,
    BAD_ID,
    NUMBER,
    STRING,
    error,
    nullable,
    ok,
    path_param,
    ref,
)
from shared.services.agent_output import MAX_OUTPUT_BYTES
from shared.services.backtest_views import DEFAULT_RUNS_PAGE, MAX_RUNS_PAGE

POINT = {"type": "object", "required": ["t", "v"], "properties": {"t": STRING, "v": nullable(NUMBER)}}

SCHEMAS: dict[str, Any] = {
    "DataLabel": {
        "type": "object",
        "description": "where the market data of a result came from; `synthetic` results are not real prices",
        "required": ["sources", "synthetic", "note"],
        "properties": {"sources": {"type": "array", "items": STRING}, "synthetic": {"type": "boolean"},
                       "note": STRING},
    },
    "StandardEvaluation": {
        "type": "object",
        "description": "the one backtest every agent is ranked on: same universe, window, timeframe, cash",
        "required": ["evaluation_id", "symbols", "start", "end", "timeframe", "cash", "commission"],
        "properties": {"evaluation_id": STRING, "symbols": {"type": "array", "items": STRING},
                       "start": {"type": "string", "format": "date"},
                       "end": {"type": "string", "format": "date", "description": "exclusive"},
                       "timeframe": STRING, "cash": NUMBER, "commission": NUMBER},
    },
    "BacktestSummary": {
        "type": "object",
        "required": ["run_id", "agent_id", "status", "standard"],
        "properties": {
            "run_id": STRING, "agent_id": STRING, "status": STRING,
            "standard": {"type": "boolean", "description": "the agent's standard evaluation (ranked)"},
            "automatic": nullable({"type": "boolean"}),
            "request": nullable({"type": "object"}),
            "metrics": nullable({"type": "object", "additionalProperties": {"nullable": True}}),
            "error": nullable(STRING), "created_at": nullable(STRING), "started_at": nullable(STRING),
            "finished_at": nullable(STRING),
        },
    },
    "BacktestPage": {
        "type": "object",
        "required": ["runs", "next_page_token"],
        "properties": {"runs": {"type": "array", "items": ref("BacktestSummary")},
                       "next_page_token": nullable(STRING)},
    },
    "BacktestCurves": {
        "type": "object",
        "required": ["run_id", "title", "equity", "benchmark", "drawdown", "markers"],
        "properties": {
            "version": {"type": "integer"}, "run_id": STRING, "agent_id": nullable(STRING), "title": STRING,
            "standard": {"type": "boolean"}, "data": nullable(ref("DataLabel")),
            "equity": {"type": "array", "items": POINT},
            "benchmark": {"type": "array", "items": POINT,
                          "description": "equal-weight buy and hold of the run's symbols, from the same cash"},
            "drawdown": {"type": "array", "items": POINT},
            "markers": {"type": "array", "items": {
                "type": "object", "required": ["t", "kind"],
                "properties": {"t": STRING, "kind": {"type": "string", "enum": ["entry", "exit"]},
                               "symbol": nullable(STRING), "size": nullable(NUMBER), "pnl": nullable(NUMBER),
                               "v": nullable(NUMBER)}}},
        },
    },
    "AgentOutput": {
        "type": "object",
        "description": f"the agent's own output (print, logging): the last {MAX_OUTPUT_BYTES} bytes",
        "required": ["agent_id", "source", "text", "bytes", "truncated", "max_bytes"],
        "properties": {
            "run_id": STRING, "session_id": STRING, "agent_id": nullable(STRING), "status": nullable(STRING),
            "state": nullable(STRING), "source": STRING, "text": STRING, "bytes": {"type": "integer"},
            "truncated": {"type": "boolean"}, "max_bytes": {"type": "integer"},
        },
    },
    "MarketStatus": {
        "type": "object",
        "required": ["clock", "open", "message"],
        "properties": {"clock": {"type": "string", "enum": ["exchange", "replay"]}, "open": {"type": "boolean"},
                       "closed_hours": STRING, "next_open": nullable(STRING), "next_bar_due": nullable(STRING),
                       "message": STRING},
    },
}

RUN = [path_param("run_id")]
AGENT = [path_param("agent_id")]
OPERATIONS: dict[str, dict[str, Any]] = {
    "/api/agents/{agent_id}/backtests": {"get": {
        "operationId": "listBacktests",
        "summary": "The caller's runs of one of their agents, newest first (standard and their own)",
        "parameters": [*AGENT,
                       {"name": "limit", "in": "query", "schema": {
                           "type": "integer", "minimum": 1, "maximum": MAX_RUNS_PAGE, "default": DEFAULT_RUNS_PAGE}},
                       {"name": "page_token", "in": "query", "schema": STRING}],
        "responses": {"200": ok("One page", "BacktestPage"), "400": error("Bad limit, page_token or id"),
                      "404": error("No such agent (or not yours)"), **AUTHED},
    }},
    "/api/backtests/{run_id}/chart": {"get": {
        "operationId": "getBacktestChart",
        "summary": "The run's chart as a PNG: equity, buy-and-hold benchmark, trade markers, drawdown",
        "parameters": RUN,
        "responses": {"200": {"description": "The chart (its title says when the data is synthetic)",
                              "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}},
                      "400": BAD_ID, "404": error("No such run (or not yours)"),
                      "409": error("The run has not succeeded (yet)"), **AUTHED},
    }},
    "/api/backtests/{run_id}/curves": {"get": {
        "operationId": "getBacktestCurves",
        "summary": "The run's equity, benchmark, drawdown and trade markers, for a client to draw",
        "parameters": RUN,
        "responses": {"200": ok("The curves", "BacktestCurves"), "400": BAD_ID,
                      "404": error("No such run (or not yours)"),
                      "409": error("The run has not succeeded (yet)"), **AUTHED},
    }},
    "/api/backtests/{run_id}/output": {"get": {
        "operationId": "getBacktestOutput",
        "summary": "What the agent printed or logged during the run (owner only, size-capped)",
        "parameters": RUN,
        "responses": {"200": ok("The output", "AgentOutput"), "400": BAD_ID,
                      "404": error("No such run (or not yours)"), **AUTHED},
    }},
    "/api/agents/{agent_id}/paper-trading/pause": {"post": {
        "operationId": "pausePaperTrading",
        "summary": "Pause the session: the runtime stops, positions and account stay (trading -> paused)",
        "parameters": AGENT,
        "responses": {"200": ok("Paused", "PaperSession"), "400": error("A body with fields, or a bad id"),
                      "404": error("No such agent (or not yours)"),
                      "409": error("The agent is not trading"), **AUTHED},
    }},
    "/api/agents/{agent_id}/paper-trading/resume": {"post": {
        "operationId": "resumePaperTrading",
        "summary": "Resume a paused session (paused -> trading); decision numbering continues",
        "parameters": AGENT,
        "responses": {"200": ok("Deploying again", "PaperSession"),
                      "400": error("A body with fields, or a bad id"),
                      "404": error("No such agent (or not yours)"),
                      "409": error("The agent is not paused"), **AUTHED},
    }},
    "/api/agents/{agent_id}/paper-trading/output": {"get": {
        "operationId": "getPaperTradingOutput",
        "summary": "What the agent printed or logged in its latest session (owner only, size-capped)",
        "parameters": AGENT,
        "responses": {"200": ok("The output", "AgentOutput"), "400": BAD_ID,
                      "404": error("No such agent (or not yours), or it never paper traded"), **AUTHED},
    }},
}
