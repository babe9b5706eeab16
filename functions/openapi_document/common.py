"""The pieces every part of the OpenAPI document repeats: references, error answers, parameters."""

from __future__ import annotations

from typing import Any

JSON = "application/json"
STRING = {"type": "string"}
NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}


def ref(name: str) -> dict[str, str]:
    """A reference to the component schema `name`."""
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or null."""
    return {**schema, "nullable": True}


def error(description: str) -> dict[str, Any]:
    """A response carrying the error envelope (functions.edge.http)."""
    return {"description": description, "content": {JSON: {"schema": ref("Error")}}}


def ok(description: str, schema: str) -> dict[str, Any]:
    """A JSON response of the component schema `schema`."""
    return {"description": description, "content": {JSON: {"schema": ref(schema)}}}


def path_param(name: str) -> dict[str, Any]:
    """A required string path parameter."""
    return {"name": name, "in": "path", "required": True, "schema": STRING}


def query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    """An optional query parameter."""
    return {"name": name, "in": "query", "schema": schema, **({"description": description} if description else {})}


RATE_LIMITED = {
    # The edge rounds Retry-After up and never sends less than 1 (functions.edge.http).
    **error("Too many requests; retry after the given seconds"),
    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
}
# What every signed-in route may answer besides its own statuses.
AUTHED = {
    "401": error("Missing, expired or invalid ID token"),
    "429": RATE_LIMITED,
    "503": error("A backing service is briefly unavailable; retry"),
}
# The documents store refuses ids Firestore refuses (e.g. "__name__"): 400 before any lookup.
BAD_ID = error("The id is not a usable document id (e.g. the reserved __name__ form)")
AGENT_ID = path_param("agent_id")
