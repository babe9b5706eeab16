"""GET /api/openapi.json: the API's OpenAPI 3 document (public)."""

from __future__ import annotations

from typing import Any

import flask
import functions_framework

from functions.edge.http import http_endpoint
from functions.openapi_document import openapi_document

NAME = "farm-openapi"


@functions_framework.http
@http_endpoint(NAME)
def openapi(request: flask.Request) -> dict[str, Any]:
    """Return the OpenAPI document describing every route."""
    return openapi_document()
