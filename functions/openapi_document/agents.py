"""OpenAPI operations and schemas of health, this document and the agents routes; the error envelope."""

from __future__ import annotations

from typing import Any

from functions.openapi_document.common import (
    AGENT_ID,
    AUTHED,
    BAD_ID,
    JSON,
    error,
    nullable,
    ok,
    ref,
)
from shared.domain.lifecycle import AgentStatus
from shared.services.agent_fields import MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, MAX_TAGS
from shared.services.agent_pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

TAG_SCHEMA = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
        }},
    },
    "Finding": {
        "type": "object",
        "required": ["code", "message", "severity"],
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "file": nullable({"type": "string"}),
            "line": nullable({"type": "integer"}),
            "col": nullable({"type": "integer"}),
            "severity": {"type": "string", "enum": ["error", "warning"]},
        },
    },
    "ValidationReport": {
        "type": "object",
        "required": ["ok", "findings", "error_count"],
        "properties": {
            "ok": {"type": "boolean"},
            "code_hash": nullable({"type": "string"}),
            "files": {"type": "array", "items": {"type": "string"}},
            "error_count": {"type": "integer", "minimum": 0},
            "findings": {"type": "array", "items": ref("Finding")},
        },
    },
    "AgentSubmitted": {
        "type": "object",
        "required": ["agent_id", "status"],
        "properties": {"agent_id": {"type": "string"}, "status": ref("AgentStatus")},
    },
    "AgentStatus": {"type": "string", "enum": [s.value for s in AgentStatus]},
    "AgentSummary": {
        "type": "object",
        "required": ["agent_id", "name", "status", "created_at", "updated_at"],
        "properties": {
            "agent_id": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "status": ref("AgentStatus"),
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    },
    "HistoryEntry": {
        "type": "object",
        "required": ["to", "at"],
        "properties": {
            "from": nullable({"type": "string"}),
            "to": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "reason": {"type": "string"},
        },
    },
    "Agent": {
        "allOf": [ref("AgentSummary"), {
            "type": "object",
            "required": ["code_hash", "history", "validation"],
            "properties": {
                "code_hash": {"type": "string"},
                "files": {"type": "array", "items": {"type": "string"}},
                "history": {"type": "array", "items": ref("HistoryEntry")},
                "validation": ref("ValidationReport"),
                "latest_backtest": nullable({
                    "type": "object", "description": "run_id, status, finished_at, metrics, report_key, error"}),
                "standard_backtest": nullable({
                    "type": "object", "description": "the same, of the standard evaluation (the ranked run)"}),
                "paper_session": nullable({"type": "string", "description": "the latest session's id"}),
            },
        }],
    },
    "AgentPage": {
        "type": "object",
        "required": ["agents", "next_page_token"],
        "properties": {
            "agents": {"type": "array", "items": ref("AgentSummary")},
            "next_page_token": nullable({"type": "string"}),
        },
    },
    "AgentJson": {
        "type": "object",
        "required": ["name", "code"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_CHARS},
            "code": {"type": "string", "minLength": 1, "description": "the agent.py source"},
            "description": {"type": "string", "maxLength": MAX_DESCRIPTION_CHARS},
            "tags": {"type": "array", "items": TAG_SCHEMA, "maxItems": MAX_TAGS},
            "requirements": {"type": "string", "description": "requirements.txt text"},
        },
    },
    "AgentUpload": {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": {"type": "string", "format": "binary", "description": ".py file or .zip"},
            "requirements.txt": {"type": "string", "format": "binary"},
            "name": {"type": "string", "maxLength": MAX_NAME_CHARS},
            "description": {"type": "string", "maxLength": MAX_DESCRIPTION_CHARS},
            "tags": {"type": "string", "description": "comma-separated"},
        },
    },
    "Health": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
}

OPERATIONS: dict[str, dict[str, Any]] = {
    "/healthz": {"get": {
        "operationId": "healthz", "summary": "Liveness of the function layer", "security": [],
        "responses": {"200": ok("Up", "Health")},
    }},
    "/api/openapi.json": {"get": {
        "operationId": "openapi", "summary": "This document", "security": [],
        "responses": {"200": {"description": "The OpenAPI document",
                              "content": {JSON: {"schema": {"type": "object"}}}}},
    }},
    "/api/agents": {
        "post": {
            "operationId": "submitAgent",
            "summary": "Submit an agent (.py file or .zip bundle, as multipart/form-data)",
            # Multipart only here, so generated clients send the file as multipart (given both,
            # generators pick JSON). The API also takes application/json `AgentJson` {name, code}.
            "description": "Also accepts `application/json` with the AgentJson schema ({name, code}).",
            "requestBody": {"required": True, "content": {
                "multipart/form-data": {"schema": ref("AgentUpload")},
            }},
            "responses": {
                "201": {**ok("Validated and stored", "AgentSubmitted"),
                        "headers": {"Location": {"schema": {"type": "string"}}}},
                "400": error("Malformed request"),
                "409": error("The same code was already submitted: the message names the agent that holds "
                              "it (details.agent_id, details.name)"),
                "413": error("Upload over the size limit"),
                "415": error("Not multipart/form-data or JSON, or not a .py/.zip file"),
                "422": error("Validation failed; details is the full ValidationReport"),
                **AUTHED,
            },
        },
        "get": {
            "operationId": "listAgents",
            "summary": "The caller's agents, newest first",
            "parameters": [
                {"name": "limit", "in": "query", "schema": {
                    "type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE,
                    "default": DEFAULT_PAGE_SIZE}},
                {"name": "page_token", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": {"200": ok("One page", "AgentPage"),
                          "400": error("Bad limit or page_token"), **AUTHED},
        },
    },
    "/api/agents/{agent_id}": {
        "get": {
            "operationId": "getAgent",
            "summary": "One agent: status, validation report, history, backtest, paper session",
            "parameters": [AGENT_ID],
            "responses": {"200": ok("The agent", "Agent"), "400": BAD_ID,
                          "404": error("No such agent (or not yours)"), **AUTHED},
        },
        "delete": {
            "operationId": "deleteAgent",
            "summary": "Soft-delete an agent (stops its runtime, keeps its FMEL history)",
            "parameters": [AGENT_ID],
            "responses": {"204": {"description": "Deleted"}, "400": BAD_ID,
                          "404": error("No such agent (or not yours)"), **AUTHED},
        },
    },
}
