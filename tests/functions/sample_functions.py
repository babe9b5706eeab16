"""Test-only functions: HTTP endpoints that exercise the edge, and event-triggered ones that
record what they receive. Tests pass `SAMPLE_SPECS` to the host next to the real registry.
"""

from __future__ import annotations

import queue
from typing import Any

import flask
import functions_framework
from cloudevents.http import CloudEvent

from functions.edge.http import http_endpoint, json_body
from functions.registry import DocumentTrigger, FunctionSpec, HttpTrigger, TopicTrigger
from shared import errors

MODULE = __name__
ECHO = FunctionSpec(
    "sample-echo", MODULE, "sample_echo", HttpTrigger("/api/samples/<item_id>", ("GET", "POST"))
)
PAGE = FunctionSpec("sample-page", MODULE, "sample_page", HttpTrigger("/api/pages/<int:number>"))
FAIL = FunctionSpec(
    "sample-fail", MODULE, "sample_fail", HttpTrigger("/api/fail/<kind>", ("GET", "POST"))
)
RESULT = FunctionSpec("sample-result", MODULE, "sample_result", HttpTrigger("/api/result/<shape>"))
ON_TOPIC = FunctionSpec("sample-on-topic", MODULE, "sample_on_topic", TopicTrigger("sample-topic"))
ON_FAILING_TOPIC = FunctionSpec(
    "sample-on-failing-topic", MODULE, "sample_on_failing_topic", TopicTrigger("sample-failing")
)
ON_CREATED = FunctionSpec(
    "sample-on-created", MODULE, "sample_on_created", DocumentTrigger("samples", "created")
)
SAMPLE_SPECS = (ECHO, PAGE, FAIL, RESULT, ON_TOPIC, ON_FAILING_TOPIC, ON_CREATED)

# What the event functions received, for the tests to wait on.
TOPIC_EVENTS: queue.Queue[CloudEvent] = queue.Queue()
FAILING_ATTEMPTS: queue.Queue[CloudEvent] = queue.Queue()
DOCUMENT_EVENTS: queue.Queue[CloudEvent] = queue.Queue()

ERRORS: dict[str, Exception] = {
    "invalid": errors.InvalidInputError("bad field"),
    "unauthenticated": errors.AuthenticationError("no token"),
    "forbidden": errors.PermissionDeniedError("admins only"),
    "missing": errors.NotFoundError("no such agent"),
    "conflict": errors.ConflictError("duplicate code"),
    "illegal": errors.IllegalTransitionError("stored -> trading"),
    "too-large": errors.PayloadTooLargeError("bundle over 10 MB"),
    "media": errors.UnsupportedMediaTypeError("send multipart"),
    "rules": errors.ValidationFailedError(
        "agent fails validation", details=[{"line": 3, "rule": "forbidden-import"}]
    ),
    "rate": errors.RateLimitedError("slow down", retry_after_s=2.2),
    "transient": errors.TransientError("store unavailable, retry"),
    "settings": errors.SettingsError("FARM_X missing at /etc/secret"),
    "boom": RuntimeError("secret internals: password=hunter2"),
    # The platform's own account refused by a cloud service: its name must not reach the caller.
    "backend": errors.BackendAccessError("farm-functions@p.iam.gserviceaccount.com lacks /etc/secret access"),
}


@functions_framework.http
@http_endpoint(ECHO)
def sample_echo(request: flask.Request, item_id: str) -> tuple[dict[str, Any], int]:
    """Echo the path parameter, the method and (for POST) the JSON body."""
    if request.method == "POST":
        return {"item_id": item_id, "method": "POST", "body": json_body(request)}, 201
    return {"item_id": item_id, "method": request.method}, 200


@functions_framework.http
@http_endpoint(PAGE)
def sample_page(request: flask.Request, number: int) -> dict[str, Any]:
    """Return the page number, converted to int by the route."""
    return {"number": number, "type": type(number).__name__}


@functions_framework.http
@http_endpoint(FAIL)
def sample_fail(request: flask.Request, kind: str) -> None:
    """Raise the error named by `kind` (or let Flask reject malformed JSON for "json")."""
    if kind == "json":
        request.get_json()  # werkzeug raises BadRequest on a malformed body
    else:
        raise ERRORS[kind]


@functions_framework.http
@http_endpoint(RESULT)
def sample_result(request: flask.Request, shape: str) -> Any:
    """Return each shape a handler may return."""
    if shape == "none":
        return None
    if shape == "headers":
        return {"ok": True}, 202, {"Location": "/api/samples/1"}
    return flask.Response("a,b\n1,2\n", mimetype="text/csv")


@functions_framework.cloud_event
def sample_on_topic(event: CloudEvent) -> None:
    """Record the event."""
    TOPIC_EVENTS.put(event)


@functions_framework.cloud_event
def sample_on_failing_topic(event: CloudEvent) -> None:
    """Record the attempt, then fail so the message is redelivered."""
    FAILING_ATTEMPTS.put(event)
    raise errors.TransientError("downstream unavailable")


@functions_framework.cloud_event
def sample_on_created(event: CloudEvent) -> None:
    """Record the event."""
    DOCUMENT_EVENTS.put(event)
