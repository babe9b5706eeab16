"""The OpenAPI 3 document of the HTTP API: the one description, served at /api/openapi.json.

Routes are taken from the function registry (so a path can never drift from what is mounted);
this module adds what each one takes and answers. The builder refuses to build a document that
misses a registry route or method, or documents one the registry does not serve, so a new
function cannot be forgotten.
"""

from __future__ import annotations

import re
from typing import Any

from functions._openapi_analytics import OPERATIONS as ANALYTICS_OPERATIONS
from functions._openapi_analytics import SCHEMAS as ANALYTICS_SCHEMAS
from functions._openapi_legacy import SCHEMAS as LEGACY_SCHEMAS
from functions._openapi_legacy import legacy_operations
from functions._openapi_trading import OPERATIONS as TRADING_OPERATIONS
from functions._openapi_trading import SCHEMAS as TRADING_SCHEMAS
from functions._openapi_wave2 import OPERATIONS as WAVE2_OPERATIONS
from functions._openapi_wave2 import SCHEMAS as WAVE2_SCHEMAS
from functions.registry import FUNCTIONS, FunctionSpec, HttpTrigger
from shared.domain.lifecycle import AgentStatus
from shared.services.agent_fields import MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, MAX_TAGS
from shared.services.agent_pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

VERSION = "0.1.0"
JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref("Error")}}}


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref(schema)}}}


RATE_LIMITED = {
    **_error("Too many requests; retry after the given seconds"),
    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
}
AUTHED = {
    "401": _error("Missing, expired or invalid ID token"),
    "429": RATE_LIMITED,
    "503": _error("A backing service is briefly unavailable; retry"),
}
# The documents store refuses ids Firestore refuses (e.g. "__name__"): 400 before any lookup.
BAD_ID = _error("The id is not a usable document id (e.g. the reserved __name__ form)")
AGENT_ID = {"name": "agent_id", "in": "path", "required": True, "schema": {"type": "string"}}
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
            "file": _nullable({"type": "string"}),
            "line": _nullable({"type": "integer"}),
            "col": _nullable({"type": "integer"}),
            "severity": {"type": "string", "enum": ["error", "warning"]},
        },
    },
    "ValidationReport": {
        "type": "object",
        "required": ["ok", "findings", "error_count"],
        "properties": {
            "ok": {"type": "boolean"},
            "code_hash": _nullable({"type": "string"}),
            "files": {"type": "array", "items": {"type": "string"}},
            "error_count": {"type": "integer", "minimum": 0},
            "findings": {"type": "array", "items": _ref("Finding")},
        },
    },
    "AgentSubmitted": {
        "type": "object",
        "required": ["agent_id", "status"],
        "properties": {"agent_id": {"type": "string"}, "status": _ref("AgentStatus")},
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
            "status": _ref("AgentStatus"),
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    },
    "HistoryEntry": {
        "type": "object",
        "required": ["to", "at"],
        "properties": {
            "from": _nullable({"type": "string"}),
            "to": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "reason": {"type": "string"},
        },
    },
    "Agent": {
        "allOf": [_ref("AgentSummary"), {
            "type": "object",
            "required": ["code_hash", "history", "validation"],
            "properties": {
                "code_hash": {"type": "string"},
                "files": {"type": "array", "items": {"type": "string"}},
                "history": {"type": "array", "items": _ref("HistoryEntry")},
                "validation": _ref("ValidationReport"),
                "latest_backtest": _nullable({
                    "type": "object", "description": "run_id, status, finished_at, metrics, report_key, error"}),
                "standard_backtest": _nullable({
                    "type": "object", "description": "the same, of the standard evaluation (the ranked run)"}),
                "paper_session": _nullable({"type": "string", "description": "the latest session's id"}),
            },
        }],
    },
    "AgentPage": {
        "type": "object",
        "required": ["agents", "next_page_token"],
        "properties": {
            "agents": {"type": "array", "items": _ref("AgentSummary")},
            "next_page_token": _nullable({"type": "string"}),
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
        "responses": {"200": _ok("Up", "Health")},
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
                "multipart/form-data": {"schema": _ref("AgentUpload")},
            }},
            "responses": {
                "201": {**_ok("Validated and stored", "AgentSubmitted"),
                        "headers": {"Location": {"schema": {"type": "string"}}}},
                "400": _error("Malformed request"),
                "409": _error("The same code was already submitted: the message names the agent that holds "
                              "it (details.agent_id, details.name)"),
                "413": _error("Upload over the size limit"),
                "415": _error("Not multipart/form-data or JSON, or not a .py/.zip file"),
                "422": _error("Validation failed; details is the full ValidationReport"),
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
            "responses": {"200": _ok("One page", "AgentPage"),
                          "400": _error("Bad limit or page_token"), **AUTHED},
        },
    },
    "/api/agents/{agent_id}": {
        "get": {
            "operationId": "getAgent",
            "summary": "One agent: status, validation report, history, backtest, paper session",
            "parameters": [AGENT_ID],
            "responses": {"200": _ok("The agent", "Agent"), "400": BAD_ID,
                          "404": _error("No such agent (or not yours)"), **AUTHED},
        },
        "delete": {
            "operationId": "deleteAgent",
            "summary": "Soft-delete an agent (stops its runtime, keeps its FMEL history)",
            "parameters": [AGENT_ID],
            "responses": {"204": {"description": "Deleted"}, "400": BAD_ID,
                          "404": _error("No such agent (or not yours)"), **AUTHED},
        },
    },
}


for _group in (ANALYTICS_OPERATIONS, TRADING_OPERATIONS, WAVE2_OPERATIONS):
    for _path, _item in _group.items():
        OPERATIONS.setdefault(_path, {}).update(_item)  # one path may gain methods from several groups
for _path, _item in legacy_operations(OPERATIONS).items():
    OPERATIONS.setdefault(_path, {}).update(_item)
SCHEMAS.update(ANALYTICS_SCHEMAS)
SCHEMAS.update(TRADING_SCHEMAS)
SCHEMAS.update(WAVE2_SCHEMAS)
SCHEMAS.update(LEGACY_SCHEMAS)


class IncompleteDocumentError(RuntimeError):
    """The document and the function registry disagree on the routes served."""


def openapi_path(flask_path: str) -> str:
    """The OpenAPI form of a Flask route: "/api/agents/<agent_id>" -> "/api/agents/{agent_id}"."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", flask_path)


def served_operations(specs: tuple[FunctionSpec, ...] = FUNCTIONS) -> set[tuple[str, str]]:
    """Every (OpenAPI path, lower-case method) the registry's HTTP functions serve (OPTIONS aside)."""
    return {
        (openapi_path(spec.trigger.path), method.lower())
        for spec in specs if isinstance(spec.trigger, HttpTrigger)
        for method in spec.trigger.methods if method != "OPTIONS"
    }


def documented_operations(operations: dict[str, dict[str, Any]] = OPERATIONS) -> set[tuple[str, str]]:
    """Every (path, method) the document describes."""
    return {(path, method) for path, item in operations.items() for method in item}


def check_complete(
    specs: tuple[FunctionSpec, ...] = FUNCTIONS, operations: dict[str, dict[str, Any]] = OPERATIONS
) -> None:
    """Raise IncompleteDocumentError naming every route missing from, or unknown to, the document."""
    served, documented = served_operations(specs), documented_operations(operations)
    missing, unknown = sorted(served - documented), sorted(documented - served)
    problems = [f"no operation for {m.upper()} {p} (add it to functions/_openapi_*.py)" for p, m in missing]
    problems += [f"{m.upper()} {p} is documented but no registry function serves it" for p, m in unknown]
    if problems:
        raise IncompleteDocumentError("the OpenAPI document is incomplete: " + "; ".join(problems))


def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI 3.0 document for every HTTP route in the registry.

    Raises IncompleteDocumentError when a registry route or method has no operation.
    """
    check_complete()
    paths = {openapi_path(s.trigger.path): OPERATIONS[openapi_path(s.trigger.path)]
             for s in FUNCTIONS if isinstance(s.trigger, HttpTrigger)}
    return {
        "openapi": "3.0.3",
        "info": {"title": "The Farm API", "version": VERSION,
                 "description": "Upload backtrader agents, backtest and paper trade them."},
        "servers": [{"url": "/"}],
        "security": [{"firebaseIdToken": []}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"firebaseIdToken": {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "Firebase ID token (locally: `farm token --user alice`)"}},
        },
    }

