"""OpenAPI operations of the earlier platform's routes: deprecated aliases of today's.

Each alias answers exactly what its modern twin answers (functions/legacy_routes.py forwards
to it), so its responses are the twin's, plus the `Deprecation` header and a 400 for a missing
agent or account id. Built from the modern operations so the two can never disagree.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from functions.openapi_document.common import JSON, STRING

DEPRECATION = {"Deprecation": {"schema": {"type": "string"}, "description": "always `true`: use the successor"},
               "Link": {"schema": {"type": "string"}, "description": 'the successor route, rel="successor-version"'}}
ID_QUERY = [{"name": "agent_id", "in": "query", "schema": STRING},
            {"name": "agentId", "in": "query", "schema": STRING, "description": "old spelling of agent_id"}]
ACCOUNT_QUERY = [{"name": "account_id", "in": "query", "schema": STRING},
                 {"name": "accountId", "in": "query", "schema": STRING}, *ID_QUERY]
MISSING = {"description": "No agent_id/agentId (or account_id) given, or it is unusable",
           "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"required": False, "content": {JSON: {"schema": {"type": "object", "properties": properties}}}}


AGENT_REF = {"agent_id": STRING, "agentId": STRING}
SCHEMAS: dict[str, Any] = {
    "LegacyPositions": {"type": "object", "required": ["account_id", "positions"],
                        "properties": {"account_id": STRING,
                                       "positions": {"type": "array",
                                                     "items": {"$ref": "#/components/schemas/Holding"}}}},
}

# alias path, method, modern path, modern method, what the alias adds (parameters, body, schema)
ALIASES: tuple[tuple[str, str, str, str, dict[str, Any]], ...] = (
    ("/api/agents/submit", "post", "/api/agents", "post", {"agent_name": True}),
    ("/api/agents/list", "get", "/api/agents", "get", {}),
    ("/api/agents/{agent_id}/status", "get", "/api/agents/{agent_id}", "get", {}),
    ("/api/broker/create", "post", "/api/broker/accounts", "post", {"body": _object(AGENT_REF), "missing": True}),
    ("/api/broker/fund", "post", "/api/broker/accounts/{account_id}/funding", "post",
     {"body": _object({**AGENT_REF, "account_id": STRING, "accountId": STRING, "amount": {"type": "number"},
                       "idempotency_key": STRING}), "missing": True, "drop_path": True}),
    ("/api/broker/balance", "get", "/api/broker/accounts/{account_id}", "get",
     {"query": ACCOUNT_QUERY, "missing": True, "drop_path": True}),
    ("/api/broker/positions", "get", "/api/broker/accounts/{account_id}", "get",
     {"query": ACCOUNT_QUERY, "missing": True, "drop_path": True, "schema": "LegacyPositions"}),
    ("/api/paper-trading/start", "post", "/api/agents/{agent_id}/paper-trading", "post",
     {"body": _object({**AGENT_REF, "symbols": {"type": "array", "items": STRING}, "timeframe": STRING}),
      "missing": True, "drop_path": True}),
    ("/api/paper-trading/stop", "post", "/api/agents/{agent_id}/paper-trading", "delete",
     {"body": _object(AGENT_REF), "missing": True, "drop_path": True}),
    ("/api/paper-trading/status", "get", "/api/agents/{agent_id}/paper-trading", "get",
     {"query": ID_QUERY, "missing": True, "drop_path": True}),
    ("/api/leaderboard/user/{agent_id}", "get", "/api/leaderboard/agents/{agent_id}", "get", {}),
    ("/api/leaderboard/top/{n}", "get", "/api/leaderboard", "get", {"top": True}),
    ("/api/fmel/analytics", "get", "/api/fmel/agents/{agent_id}/analytics", "get",
     {"query": ID_QUERY, "missing": True, "drop_path": True}),
    ("/api/fmel/agent/{agent_id}", "get", "/api/fmel/decisions", "get", {"fmel_agent": True}),
)


def legacy_operations(modern: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The deprecated aliases' operations, derived from the modern ones in `modern`."""
    out: dict[str, dict[str, Any]] = {}
    for path, method, twin_path, twin_method, extra in ALIASES:
        twin = copy.deepcopy(modern[twin_path][twin_method])
        op: dict[str, Any] = {
            "operationId": "legacy" + "".join(part.capitalize() for part in re.split(r"[/-]", path)
                                              if part and part != "api" and "{" not in part),
            "deprecated": True,
            "summary": f"Deprecated alias of {twin_method.upper()} {twin_path} (the earlier platform's route)",
            "description": f"Answers exactly what {twin_method.upper()} {twin_path} answers; use that instead.",
        }
        if "security" in twin:
            op["security"] = twin["security"]
        params = [p for p in twin.get("parameters", []) if not (extra.get("drop_path") and p["in"] == "path")]
        if extra.get("top"):
            params = [p for p in params if p["name"] != "limit"]
            params.insert(0, {"name": "n", "in": "path", "required": True,
                              "schema": {"type": "integer", "minimum": 1, "maximum": 1000}})
        if extra.get("fmel_agent"):
            params = [p for p in params if p["name"] != "agent"]
            params.insert(0, {"name": "agent_id", "in": "path", "required": True, "schema": STRING})
        if path.endswith("/status") and "{agent_id}" in path:
            params = [p for p in params if p["in"] == "path"]
        params += extra.get("query", [])
        if params:
            op["parameters"] = params
        if "body" in extra:
            op["requestBody"] = extra["body"]
        elif "requestBody" in twin and twin_method == method:
            body = twin["requestBody"]
            op["requestBody"] = _with_agent_name(body) if extra.get("agent_name") else body
        responses = twin["responses"]
        if extra.get("top"):  # /top/<int:n> matches whole numbers only
            responses.setdefault("404", {**MISSING, "description": "n is not a whole number"})
        if extra.get("missing"):
            responses.setdefault("400", MISSING)
            responses.setdefault("404", {**MISSING, "description": "No such agent or account (or not yours)"})
        for status, response in responses.items():
            if status.startswith("2"):
                response["headers"] = {**response.get("headers", {}), **DEPRECATION}
                if extra.get("schema"):
                    response["content"] = {JSON: {"schema": {"$ref": f"#/components/schemas/{extra['schema']}"}}}
        op["responses"] = responses
        out.setdefault(path, {})[method] = op
    return out


def _with_agent_name(body: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(body)
    for content in body["content"].values():
        schema = content["schema"]
        if "$ref" in schema:
            content["schema"] = {"allOf": [schema, {"type": "object", "properties": {
                "agentName": {"type": "string", "description": "old spelling of name"}}}]}
    return body
