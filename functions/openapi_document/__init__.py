"""The OpenAPI 3 document of the HTTP API: the one description, served at /api/openapi.json.

Routes are taken from the function registry (so a path can never drift from what is mounted);
the modules of this package add what each one takes and answers, one group of routes each.
They are Python rather than a checked-in JSON file because their limits, enums and defaults are
the services' own constants (page sizes, timeframes, statuses), so the two cannot drift apart.
The builder refuses to build a document that misses a registry route or method, or documents
one the registry does not serve, so a new function cannot be forgotten.
"""

from __future__ import annotations

import re
from typing import Any

from functions.openapi_document import agents, analytics, legacy, reconciliations, runs, trading
from functions.registry import FUNCTIONS, FunctionSpec, HttpTrigger

VERSION = "0.1.0"


def _merged() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    operations: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for group in (agents, analytics, trading, runs, reconciliations):
        for path, item in group.OPERATIONS.items():
            operations.setdefault(path, {}).update(item)  # one path may gain methods from several groups
        schemas.update(group.SCHEMAS)
    # The deprecated aliases are built from the modern operations, so they come last.
    for path, item in legacy.legacy_operations(operations).items():
        operations.setdefault(path, {}).update(item)
    schemas.update(legacy.SCHEMAS)
    return operations, schemas


OPERATIONS, SCHEMAS = _merged()


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
    problems = [f"no operation for {m.upper()} {p} (add it to a module of functions/openapi_document)"
                for p, m in missing]
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

