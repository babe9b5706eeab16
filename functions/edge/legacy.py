"""The earlier platform's routes as thin aliases: rewrite the request, call today's function.

An alias never has logic of its own: it maps its path, query and body onto the modern route's,
calls that route's entry point in-process (so auth, rate limits, validation, errors and the data
are exactly the modern route's) and marks the answer deprecated:

    Deprecation: true
    Link: </api/agents>; rel="successor-version"

The earlier website named agents `agentId` and `agentName`; both spellings are read.
"""

from __future__ import annotations

import io
import json
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

import flask

from shared.errors import InvalidInputError

# A function module's entry point: functions_framework's decorator types its result loosely, but
# every one is wrapped by `http_endpoint`, which always returns a flask.Response.
Endpoint = Callable[[flask.Request], object]
DEPRECATION = "true"


def forward(
    request: flask.Request, endpoint: Endpoint, method: str, path: str, *,
    query: Mapping[str, Any] | None = None, body: Mapping[str, Any] | None = None, keep_body: bool = False,
) -> flask.Response:
    """Call `endpoint` as if the client had sent `method path?query` with `body` (JSON)."""
    environ = dict(request.environ)
    environ["REQUEST_METHOD"] = method
    environ["PATH_INFO"] = path.encode().decode("latin-1")  # WSGI carries the path's bytes as latin-1
    environ["QUERY_STRING"] = urllib.parse.urlencode(
        {k: v for k, v in (query if query is not None else request.args).items() if v is not None}, doseq=True)
    if not keep_body:
        data = b"" if body is None else json.dumps(dict(body)).encode()
        environ["wsgi.input"] = io.BytesIO(data)
        environ["CONTENT_LENGTH"] = str(len(data))
        if body is None:
            environ.pop("CONTENT_TYPE", None)
        else:
            environ["CONTENT_TYPE"] = "application/json"
    response = endpoint(flask.Request(environ))
    assert isinstance(response, flask.Response)
    response.headers["Deprecation"] = DEPRECATION
    response.headers["Link"] = f'<{urllib.parse.quote(path, safe="/")}>; rel="successor-version"'
    return response


def legacy_body(request: flask.Request) -> dict[str, Any]:
    """The JSON object the old client sent (empty when none); 400 when it is not an object."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    body = request.get_json(silent=True, force=True)
    if not isinstance(body, dict):
        raise InvalidInputError("request body must be a JSON object")
    return body


def agent_id_from(values: Mapping[str, Any]) -> str:
    """The agent named by `agent_id` or the old `agentId`; 400 when neither is a usable string."""
    for key in ("agent_id", "agentId"):
        value = values.get(key)
        if isinstance(value, str) and value.strip() and "/" not in value:
            return value.strip()
    raise InvalidInputError("agent_id (or agentId) is required")


def account_id_from(values: Mapping[str, Any]) -> str | None:
    """The account named by `account_id` or the old `accountId`, if any."""
    for key in ("account_id", "accountId"):
        value = values.get(key)
        if isinstance(value, str) and value.strip() and "/" not in value:
            return value.strip()
    return None


def without(values: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """`values` minus the alias-only keys."""
    return {k: v for k, v in values.items() if k not in keys}
