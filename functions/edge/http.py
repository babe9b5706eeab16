"""The HTTP edge in one place: routing checks, JSON, CORS and the error envelope.

Every HTTP function is decorated with `@http_endpoint(name)`, so its body only returns data
(or raises a `shared.errors` type) and every route answers the same way, whether it runs in a
deployed function, under functions-framework, or in the local host:

    {"error": {"code": "not_found", "message": "...", "details": ...}}
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar

import flask
from werkzeug.exceptions import HTTPException

from functions import _platform
from functions.registry import FunctionSpec, HttpTrigger, by_name
from shared import errors
from shared.services import rate_limits

log = logging.getLogger(__name__)

Handler = Callable[..., Any]
Endpoint = Callable[[flask.Request], flask.Response]

ALLOWED_HEADERS = "Authorization, Content-Type"
PREFLIGHT_MAX_AGE_S = 3600
# Order matters: the first matching class wins (IllegalTransitionError is a ConflictError).
ERROR_STATUS: tuple[tuple[type[errors.FarmError], int], ...] = (
    (errors.InvalidInputError, 400),
    (errors.AuthenticationError, 401),
    (errors.PermissionDeniedError, 403),
    (errors.NotFoundError, 404),
    (errors.ConflictError, 409),
    (errors.PayloadTooLargeError, 413),
    (errors.UnsupportedMediaTypeError, 415),
    (errors.ValidationFailedError, 422),
    (errors.RateLimitedError, 429),
    (errors.TransientError, 503),
)
_HTTP_CODES = {
    400: "invalid_argument",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


class Route:
    """A Flask-syntax path pattern ("/api/agents/<agent_id>") matched against request paths."""

    _PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
    _CONVERTERS: ClassVar[dict[str | None, str]] = {
        None: "[^/]+",
        "string": "[^/]+",
        "int": r"\d+",
        "path": ".+",
    }

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._ints: set[str] = set()
        regex, pos = "", 0
        for m in self._PARAM.finditer(pattern):
            conv = m.group("conv")
            if conv not in self._CONVERTERS:
                raise ValueError(f"unsupported converter {conv!r} in {pattern!r}")
            if conv == "int":
                self._ints.add(m.group("name"))
            regex += re.escape(pattern[pos : m.start()])
            regex += f"(?P<{m.group('name')}>{self._CONVERTERS[conv]})"
            pos = m.end()
        regex += re.escape(pattern[pos:])
        self._regex = re.compile(regex + "/?")
        self.has_params = pos > 0

    def match(self, path: str) -> dict[str, Any] | None:
        """The path parameters when `path` matches, else None."""
        m = self._regex.fullmatch(path)
        if m is None:
            # Called at its bare function URL (https://REGION-PROJECT.cloudfunctions.net/NAME)
            # a deployed function sees "/": accept it when the route needs no parameters.
            return {} if path in ("", "/") and not self.has_params else None
        return {k: int(v) if k in self._ints else v for k, v in m.groupdict().items()}


def http_endpoint(
    spec: str | FunctionSpec,
    *,
    auth: bool = False,
    limits: tuple[str, ...] = (),
    method_limits: Mapping[str, tuple[str, ...]] | None = None,
) -> Callable[[Handler], Endpoint]:
    """Wrap `fn(request, **path_params) -> data` as an HTTP entry point for `spec`.

    `spec` is a registry name or a FunctionSpec. The wrapped function may return JSON-able
    data (200), `(data, status)` / `(data, status, headers)`, a `flask.Response`, or None
    (204); it raises `shared.errors` types for failures.

    With `auth=True` the `Authorization` header (Bearer or raw Firebase ID token) is verified
    before the handler runs (401 otherwise) and the handler gets the `caller` Principal as a
    keyword argument; `limits` then names the per-user rate-limit classes
    (shared.services.rate_limits) each request counts against (429 with Retry-After), and
    `method_limits` more classes for some methods only (e.g. {"POST": ("submissions",)}).
    """
    if (limits or method_limits) and not auth:
        raise TypeError("rate limits are per user: they need auth=True")

    def decorate(fn: Handler) -> Endpoint:
        resolved = by_name(spec) if isinstance(spec, str) else spec
        if not isinstance(resolved.trigger, HttpTrigger):
            raise TypeError(f"{resolved.name} is not an HTTP function")
        route = Route(resolved.trigger.path)
        methods = set(resolved.trigger.methods)
        if "GET" in methods:
            methods.add("HEAD")

        handler = _guarded(fn, limits, method_limits or {}) if auth else fn

        @functools.wraps(fn)
        def endpoint(request: flask.Request) -> flask.Response:
            response = _dispatch(handler, route, methods, request)
            _add_cors(request, response)
            return response

        return endpoint

    return decorate


def _guarded(
    fn: Handler, limits: tuple[str, ...], method_limits: Mapping[str, tuple[str, ...]]
) -> Handler:
    # Auth and rate limits live here once, so no route can forget them. Both run before the
    # handler touches the body: an anonymous or throttled upload is never read.
    def guarded(request: flask.Request, **params: Any) -> Any:
        platform = _platform.platform()
        caller = platform.identity.verify(request.headers.get("Authorization", ""))
        classes = limits + method_limits.get(request.method, ())
        if classes:
            configured = rate_limits.parse_limits(platform.settings.rate_limits)
            rate_limits.enforce(platform.rate_limiter, caller.uid, classes, configured)
        return fn(request, caller=caller, **params)

    return guarded


def _dispatch(
    fn: Handler, route: Route, methods: set[str], request: flask.Request
) -> flask.Response:
    try:
        params = route.match(request.path)
        if params is None:
            raise errors.NotFoundError(f"no route for {request.path}")
        if request.method == "OPTIONS":
            return _preflight(methods)
        if request.method not in methods:
            return _method_not_allowed(request.method, methods)
        return to_response(fn(request, **params))
    except Exception as exc:  # noqa: BLE001 (the edge: every failure becomes an envelope)
        return error_response(exc)


def to_response(result: Any) -> flask.Response:
    """Turn what a handler returned into a JSON response."""
    if isinstance(result, flask.Response):
        return result
    status = 200
    headers: dict[str, str] = {}
    if isinstance(result, tuple):
        result, status, *rest = result
        headers = rest[0] if rest else {}
    if result is None:
        response = _empty(204 if status == 200 else status)
    else:
        response = json_response(result, status)
    response.headers.update(headers)
    return response


def json_response(body: Any, status: int = 200) -> flask.Response:
    """A JSON response; datetimes as ISO 8601, dataclasses as objects."""
    text = json.dumps(body, default=_json_default, separators=(",", ":"))
    return flask.Response(text, status=status, mimetype="application/json")


def error_response(exc: BaseException) -> flask.Response:
    """Map an exception to the error envelope and its status; 500s hide their cause."""
    headers: dict[str, str] = {}
    if isinstance(exc, errors.FarmError) and status_for(exc) != 500:
        status = status_for(exc)
        error: dict[str, Any] = {"code": exc.code, "message": exc.message}
        if exc.details is not None:
            error["details"] = exc.details
        if isinstance(exc, errors.RateLimitedError):
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
        log.info("request failed: %s %s", status, exc.message)
    elif isinstance(exc, HTTPException) and exc.code and exc.code < 500:
        status = exc.code
        code = _HTTP_CODES.get(status, "invalid_argument")
        error = {"code": code, "message": exc.description or exc.name}
    else:
        status = 500
        error = {"code": "internal", "message": "internal error"}
        log.error("unhandled error in HTTP function", exc_info=exc)
    response = json_response({"error": error}, status)
    response.headers.update(headers)
    return response


def status_for(exc: errors.FarmError) -> int:
    """The HTTP status of a platform error (500 for anything unmapped)."""
    for cls, status in ERROR_STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def json_body(request: flask.Request, *, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object; 415 when it is not JSON, 400 when malformed or not an object.

    With `optional`, an empty body (whatever its Content-Type says, e.g. application/json with
    nothing after it, as generated clients send) is the empty object: the documented defaults.
    """
    if optional and not request.get_data(cache=True).strip():
        return {}
    if not request.is_json:
        raise errors.UnsupportedMediaTypeError(
            f"expected Content-Type application/json, got {request.mimetype or 'none'!r}"
        )
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise errors.InvalidInputError("request body must be a JSON object")
    return body


def _preflight(methods: Iterable[str]) -> flask.Response:
    response = _empty(204)
    response.headers["Access-Control-Allow-Methods"] = ", ".join(sorted({*methods, "OPTIONS"}))
    response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_S)
    return response


def _method_not_allowed(method: str, methods: Iterable[str]) -> flask.Response:
    allowed = ", ".join(sorted({*methods, "OPTIONS"}))
    error = {"code": "method_not_allowed", "message": f"{method} is not allowed; use {allowed}"}
    response = json_response({"error": error}, 405)
    response.headers["Allow"] = allowed
    return response


def _empty(status: int) -> flask.Response:
    response = flask.Response(status=status)
    del response.headers["Content-Type"]  # no body, so no (default text/html) type
    return response


def _add_cors(request: flask.Request, response: flask.Response) -> None:
    # Vary on every response, so a cache never serves one origin's answer to another.
    response.vary.add("Origin")
    origin = request.headers.get("Origin")
    if not origin:
        return
    allowed = _platform.settings().cors_origins
    if origin in allowed or "*" in allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
