"""OpenAPI operations and schemas of the leaderboard and FMEL routes (merged into the document)."""

from __future__ import annotations

from typing import Any

from functions.openapi_document.common import AGENT_ID, AUTHED, error, ok, query, ref
from shared.leaderboard.scoring import METRICS, MODES, PERIODS
from shared.services.fmel_analytics import DEFAULT_PAGE, MAX_PAGE
from shared.services.leaderboard import DEFAULT_LIMIT, MAX_LIMIT

NULLABLE_NUMBER = {"type": "number", "nullable": True}
RANKING_PARAMS = [
    query("mode", {"type": "string", "enum": list(MODES), "default": "backtest"}),
    query("metric", {"type": "string", "enum": list(METRICS), "default": "score"},
       "score = probabilistic Sharpe ratio with minimum trades/observations"),
    query("period", {"type": "string", "enum": list(PERIODS), "default": "all"}),
]
FILTERS = [
    query("session", {"type": "string"}), query("mode", {"type": "string", "enum": ["backtest", "paper"]}),
    # One case only in the enum (generators turn values into names, and TRADED/traded collide);
    # the API also accepts any case.
    query("action", {"type": "string", "enum": ["TRADED", "HOLD", "INACTIVE"]}, "case-insensitive"),
    query("since", {"type": "string", "format": "date-time"}),
    query("until", {"type": "string", "format": "date-time"}),
    query("from_decision", {"type": "integer", "minimum": 0}), query("to_decision", {"type": "integer", "minimum": 0}),
]
TIMED = {"headers": {"Server-Timing": {"schema": {"type": "string"}, "description": "app;dur=<ms>"}}}

SCHEMAS: dict[str, Any] = {
    "LeaderboardEntry": {
        "type": "object",
        "required": ["rank", "agent_id", "agent_name", "owner", "metrics", "score"],
        "properties": {
            "rank": {"type": "integer"}, "agent_id": {"type": "string"}, "agent_name": {"type": "string"},
            "evaluation": {"type": "string", "description": "backtest: the standard evaluation's id (see the page)"},
            "owner": {"type": "string", "description": "display name (never a uid or email)"},
            "as_of": {"type": "string", "nullable": True},
            "metrics": {"type": "object", "properties": {
                "return": NULLABLE_NUMBER, "sharpe": NULLABLE_NUMBER, "drawdown": NULLABLE_NUMBER,
                "win_rate": NULLABLE_NUMBER,
                "trades": {"type": "integer", "nullable": True}}},
            "score": {"type": "object", "properties": {
                "psr": NULLABLE_NUMBER, "z": NULLABLE_NUMBER, "sharpe_per_observation": NULLABLE_NUMBER,
                "observations": {"type": "integer", "nullable": True}, "eligible": {"type": "boolean"},
                "min_trades": {"type": "integer"}, "min_observations": {"type": "integer"}}},
        },
    },
    "Leaderboard": {
        "type": "object",
        "required": ["mode", "metric", "period", "source", "total", "entries"],
        "properties": {
            "mode": {"type": "string"}, "metric": {"type": "string"}, "period": {"type": "string"},
            "source": {"type": "string", "enum": ["cache", "warehouse"]}, "as_of": {"type": "string"},
            "total": {"type": "integer"}, "entries": {"type": "array", "items": ref("LeaderboardEntry")},
            "evaluation": ref("StandardEvaluation"),
            "data": {"allOf": [ref("DataLabel")], "nullable": True},
            "min_track_record": {"type": "object", "properties": {"days": {"type": "number"},
                                                                  "trades": {"type": "integer"}}},
            "sharpe_annualisation": {"type": "string"},
            "pending": {"type": "array", "items": ref("NotYetRanked"),
                        "description": "paper: agents whose track record is still too short to rank"},
        },
    },
    "NotYetRanked": {
        "type": "object",
        "required": ["agent_id", "not_ranked", "days_remaining", "trades_remaining"],
        "properties": {"agent_id": {"type": "string"}, "agent_name": {"type": "string"},
                       "owner": {"type": "string"}, "days": {"type": "number"}, "trades": {"type": "integer"},
                       "not_ranked": {"type": "string", "description": 'e.g. "not yet ranked: 3 more days"'},
                       "days_remaining": {"type": "integer"}, "trades_remaining": {"type": "integer"}},
    },
    "LeaderboardStanding": {
        "type": "object",
        "required": ["mode", "metric", "period", "source", "entry", "ranked"],
        "properties": {"mode": {"type": "string"}, "metric": {"type": "string"}, "period": {"type": "string"},
                       "source": {"type": "string", "enum": ["cache", "warehouse"]},
                       "entry": {"allOf": [ref("LeaderboardEntry")], "nullable": True},
                       "ranked": {"type": "boolean"},
                       "not_ranked": {"type": "string", "description": 'paper: "not yet ranked: N more days"'},
                       "days_remaining": {"type": "integer"}, "trades_remaining": {"type": "integer"},
                       "days": {"type": "number"}, "trades": {"type": "integer"}},
    },
    "DecisionPage": {
        "type": "object",
        "required": ["decisions", "next_cursor"],
        "properties": {"decisions": {"type": "array", "items": {"$ref": "#/components/schemas/Decision"}},
                       "next_cursor": {"type": "string", "nullable": True}},
    },
    "Decision": {
        "type": "object",
        "description": "One FMEL record (fmel.decisions): what the agent read, with values, what it did, "
                       "and the portfolio. Prices and volumes read carry the bar's own value; indicators "
                       "the value the agent's indicator returned; `note` is the agent's own (JSON).",
        "required": ["decision_id", "agent_id", "session_id", "mode", "decision_point", "bar_time", "action"],
        "properties": {
            "decision_id": {"type": "string"}, "agent_id": {"type": "string"}, "user_id": {"type": "string"},
            "session_id": {"type": "string"}, "mode": {"type": "string"},
            "decision_point": {"type": "integer"}, "bar_time": {"type": "string"},
            "recorded_at": {"type": "string"}, "stage": {"type": "string"}, "action": {"type": "string"},
            "actions": {"type": "array", "items": {"type": "object"}},
            "data_accessed": {"type": "array", "items": {"type": "object", "properties": {
                "symbol": {"type": "string"}, "data_hash": {"type": "string"},
                "fields": {"type": "array", "items": {"type": "string"}},
                "reads": {"type": "array", "items": {"type": "object", "properties": {
                    "seq": {"type": "integer"}, "field": {"type": "string"}, "index": {"type": "integer"},
                    "value": {"type": "number", "nullable": True}}}}}}},
            "indicators": {"type": "array", "nullable": True, "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "params": {"type": "string"}, "line": {"type": "string"},
                "input": {"type": "string"}, "index": {"type": "integer"},
                "value": {"type": "number", "nullable": True}}}},
            "note": {"type": "string", "nullable": True},
            "access_count": {"type": "integer"}, "portfolio_value": {"type": "number"},
            "cash": {"type": "number"}, "positions": {"type": "array", "items": {"type": "object"}},
        },
    },
    "FmelAnalytics": {
        "type": "object",
        "required": ["agent_id", "decisions", "by_action", "fields_read", "symbols_read", "trades", "pnl"],
        "properties": {
            "agent_id": {"type": "string"}, "decisions": {"type": "integer"},
            "by_action": {"type": "object", "additionalProperties": {"type": "integer"}},
            "fields_read": {"type": "array", "items": {"type": "object"}},
            "symbols_read": {"type": "array", "items": {"type": "object"}},
            "trades": {"type": "object"}, "pnl": {"type": "object"},
            "indicators_read": {"type": "array", "items": {"type": "object"}},
            "notes": {"type": "object", "description": "What the agent's notes said: per key, how often, "
                      "the range and mean of numbers, the commonest texts"},
        },
    },
}

OPERATIONS: dict[str, dict[str, Any]] = {
    "/api/leaderboard": {"get": {
        "operationId": "getLeaderboard", "summary": "Public ranking (cached 30 s, warehouse fallback)",
        "security": [],
        "parameters": [*RANKING_PARAMS, query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                                     "default": DEFAULT_LIMIT})],
        "responses": {"200": {**ok("One page of the ranking", "Leaderboard"), **TIMED},
                      "400": error("Unknown mode, metric or period, or limit out of range")},
    }},
    "/api/leaderboard/agents/{agent_id}": {"get": {
        "operationId": "getLeaderboardAgent", "summary": "One agent's rank, metrics and score", "security": [],
        "parameters": [AGENT_ID, *RANKING_PARAMS],
        "responses": {"200": {**ok("The agent's standing", "LeaderboardStanding"), **TIMED},
                      "400": error("Unknown mode, metric or period"),
                      "404": error("The agent is not ranked in this leaderboard")},
    }},
    "/api/fmel/decisions": {"get": {
        "operationId": "listDecisions", "summary": "The caller's agents' FMEL decisions, oldest first",
        "parameters": [query("agent", {"type": "string"}), *FILTERS,
                       query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": DEFAULT_PAGE}),
                       query("cursor", {"type": "string"})],
        "responses": {"200": ok("One page", "DecisionPage"), "400": error("Bad filter, limit or cursor"),
                      "404": error("No such agent (or not yours)"), **AUTHED},
    }},
    "/api/fmel/agents/{agent_id}/analytics": {"get": {
        "operationId": "getFmelAnalytics",
        "summary": "Decision counts by action, most-read fields and symbols, trades, P&L by decision",
        "parameters": [AGENT_ID, *FILTERS],
        "responses": {"200": ok("Analytics", "FmelAnalytics"), "400": error("Bad filter"),
                      "404": error("No such agent (or not yours)"), **AUTHED},
    }},
    "/api/fmel/agents/{agent_id}/export": {"get": {
        "operationId": "exportDecisions", "summary": "Every matching decision, streamed",
        "parameters": [AGENT_ID, query("format", {"type": "string", "enum": ["jsonl", "csv"], "default": "jsonl"}),
                       *FILTERS],
        "responses": {"200": {"description": "JSON lines or CSV (nested columns as JSON text)", "content": {
                          "application/x-ndjson": {"schema": {"type": "string"}},
                          "text/csv": {"schema": {"type": "string"}}}},
                      "400": error("Bad filter or format"), "404": error("No such agent (or not yours)"),
                      **AUTHED},
    }},
}
