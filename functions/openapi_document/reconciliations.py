"""OpenAPI operations and schemas of reconciliations (merged into the document)."""

from __future__ import annotations

from typing import Any

from functions.openapi_document.common import (
    AUTHED,
    INTEGER,
    JSON,
    NUMBER,
    STRING,
    error,
    nullable,
    path_param,
    ref,
)
from shared.reconcile.diff import CAUSES

ITEM = [path_param("agent_id"), path_param("reconciliation_id")]
DIVERGENCE = {
    "type": "object",
    "required": ["bar_time", "cause", "kind", "detail"],
    "properties": {
        "bar_time": STRING, "cause": {"type": "string", "enum": list(CAUSES)},
        "kind": {"type": "string", "description": "missing, late, different, portfolio, decision, values, "
                                                  "fill_price, partial, rejection"},
        "detail": {"type": "string", "description": "the divergence in words"},
        "left_point": nullable(INTEGER), "right_point": nullable(INTEGER), "segment": INTEGER,
    },
}
SCHEMAS: dict[str, Any] = {
    "ReconciliationRequest": {
        "type": "object",
        "description": "empty: the agent's latest paper session; or one session; or two of its backtests",
        "properties": {"session_id": STRING,
                       "backtests": {"type": "array", "items": STRING, "minItems": 2, "maxItems": 2,
                                     "description": "[baseline run id, compared run id]"}},
        "additionalProperties": False,
    },
    "ReconciliationQueued": {
        "type": "object", "required": ["reconciliation_id", "status", "kind"],
        "properties": {"reconciliation_id": STRING, "status": STRING,
                       "kind": {"type": "string", "enum": ["paper", "backtests"]}},
    },
    "Divergence": DIVERGENCE,
    "Reconciliation": {
        "type": "object",
        "required": ["reconciliation_id", "agent_id", "kind", "status"],
        "properties": {
            "reconciliation_id": STRING, "agent_id": STRING, "kind": {"type": "string", "enum": ["paper", "backtests"]},
            "session_id": nullable(STRING), "run_ids": nullable({"type": "array", "items": STRING}),
            "status": {"type": "string", "enum": ["queued", "running", "succeeded", "failed"]},
            "summary": nullable({
                "type": "object",
                "description": "decisions compared, identical (and %), diverged by cause, the first divergence, "
                               "tracking error and equity gaps, fill slippage per symbol (bps)",
                "properties": {
                    "decisions_compared": INTEGER, "identical": INTEGER, "identical_pct": nullable(NUMBER),
                    "diverged": INTEGER, "by_cause": {"type": "object", "additionalProperties": INTEGER},
                    "first_divergence": nullable(ref("Divergence")),
                    "tracking": {"type": "object", "additionalProperties": {"nullable": True}},
                    "slippage_bps": {"type": "object", "additionalProperties": {"type": "object"}},
                },
                "additionalProperties": True,
            }),
            "first_divergences": nullable({"type": "array", "items": ref("Divergence")}),
            "findings": nullable({"type": "object", "description": "runs replayed, bars between runs, "
                                                                    "cited bars the archive lacks, broker model"}),
            "report_key": nullable(STRING), "chart_key": nullable(STRING), "error": nullable(STRING),
            "created_at": nullable(STRING), "started_at": nullable(STRING), "finished_at": nullable(STRING),
        },
    },
}
BASE = "/api/agents/{agent_id}/paper-trading/reconciliations"
OPERATIONS: dict[str, dict[str, Any]] = {
    BASE: {"post": {
        "operationId": "startReconciliation",
        "summary": "Replay the agent's paper session through the backtest host and diff it decision by "
                   "decision (or diff two of its backtests)",
        "parameters": [path_param("agent_id")],
        "requestBody": {"required": False, "content": {JSON: {"schema": ref("ReconciliationRequest")}}},
        "responses": {
            "202": {"description": "Queued; poll the Location",
                    "headers": {"Location": {"schema": STRING}},
                    "content": {JSON: {"schema": ref("ReconciliationQueued")}}},
            "400": error("Unknown fields or bad ids"), "404": error("No such agent, session or run (or not yours)"),
            "409": error("The agent never paper traded, or a backtest has not succeeded"),
            "415": error("The body is not JSON"), **AUTHED,
        },
    }},
    BASE + "/{reconciliation_id}": {"get": {
        "operationId": "getReconciliation",
        "summary": "A reconciliation: status, summary, first divergences (the report has them all)",
        "parameters": ITEM,
        "responses": {"200": {"description": "The reconciliation",
                              "content": {JSON: {"schema": ref("Reconciliation")}}},
                      "400": error("A bad id"), "404": error("No such reconciliation (or not yours)"), **AUTHED},
    }},
    BASE + "/{reconciliation_id}/chart": {"get": {
        "operationId": "getReconciliationChart",
        "summary": "The reconciliation's chart: both equity curves, their gap, a marker per divergence",
        "parameters": ITEM,
        "responses": {"200": {"description": "The chart",
                              "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}},
                      "400": error("A bad id"), "404": error("No such reconciliation (or not yours)"),
                      "409": error("Not finished (yet)"), **AUTHED},
    }},
}
