"""The HTTP edge (functions.edge.http): error envelope, statuses, CORS, routes and methods.

Functions are served by functions-framework's own app, as in a deployed function.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from flask.testing import FlaskClient
from functions_framework import create_app

from functions import _platform
from functions.edge.http import Route
from tests.functions import sample_functions

SOURCE = sample_functions.__file__
SITE = "https://farm.example"

Client = Callable[[str], FlaskClient]


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.setenv("FARM_CORS_ORIGINS", f"{SITE},http://localhost:5000")
    _platform.use_platform(None)  # forget cached settings so the variable above applies
    yield lambda target: create_app(target, SOURCE).test_client()
    _platform.use_platform(None)


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("invalid", 400, "invalid_argument"),
        ("unauthenticated", 401, "unauthenticated"),
        ("forbidden", 403, "permission_denied"),
        ("missing", 404, "not_found"),
        ("conflict", 409, "conflict"),
        ("illegal", 409, "illegal_transition"),
        ("too-large", 413, "payload_too_large"),
        ("media", 415, "unsupported_media_type"),
        ("rules", 422, "validation_failed"),
        ("rate", 429, "rate_limited"),
        ("transient", 503, "unavailable"),
    ],
)
def test_each_platform_error_becomes_its_status_and_envelope(
    client: Client, kind: str, status: int, code: str
) -> None:
    response = client("sample_fail").get(f"/api/fail/{kind}")
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.json == {
        "error": {"code": code, "message": sample_functions.ERRORS[kind].args[0]}
        | ({"details": sample_functions.ERRORS[kind].details} if kind == "rules" else {})
    }


def test_a_validation_failure_carries_its_findings_as_details(client: Client) -> None:
    response = client("sample_fail").get("/api/fail/rules")
    assert response.json["error"]["details"] == [{"line": 3, "rule": "forbidden-import"}]


def test_rate_limited_answers_carry_retry_after_in_whole_seconds_rounded_up(
    client: Client,
) -> None:
    response = client("sample_fail").get("/api/fail/rate", headers={"Origin": SITE})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"  # 2.2 s rounded up
    assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("kind", ["boom", "settings", "backend"])
def test_unexpected_errors_are_500s_that_hide_internals_but_are_logged(
    client: Client, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="functions.edge.http"):
        response = client("sample_fail").get(f"/api/fail/{kind}")
    assert response.status_code == 500
    assert response.json == {"error": {"code": "internal", "message": "internal error"}}
    assert "hunter2" not in response.get_data(as_text=True)
    assert "/etc/secret" not in response.get_data(as_text=True)
    # create_app loads its own copy of the module: compare the errors by message.
    logged = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert [e.args for e in logged] == [sample_functions.ERRORS[kind].args]


def test_a_malformed_json_body_is_a_400_envelope(client: Client) -> None:
    response = client("sample_fail").post(
        "/api/fail/json", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_argument"


def test_json_body_rejects_other_media_types_and_non_objects(client: Client) -> None:
    echo = client("sample_echo")
    wrong_type = echo.post("/api/samples/a", data="x=1", content_type="text/plain")
    assert wrong_type.status_code == 415
    assert wrong_type.json["error"]["code"] == "unsupported_media_type"
    not_object = echo.post("/api/samples/a", json=[1, 2])
    assert not_object.status_code == 400
    assert "JSON object" in not_object.json["error"]["message"]


def test_path_parameters_come_from_the_functions_own_pattern(client: Client) -> None:
    echo = client("sample_echo")
    assert echo.get("/api/samples/agent-42").json == {"item_id": "agent-42", "method": "GET"}
    created = echo.post("/api/samples/x%20y", json={"name": "sma"})
    assert created.status_code == 201
    assert created.json == {"item_id": "x y", "method": "POST", "body": {"name": "sma"}}
    assert client("sample_page").get("/api/pages/7").json == {"number": 7, "type": "int"}


def test_a_path_outside_the_functions_pattern_is_a_404_envelope(client: Client) -> None:
    echo = client("sample_echo")
    for path in ("/api/other/1", "/api/samples/a/b", "/api/samples/"):
        response = echo.get(path)
        assert response.status_code == 404, path
        assert response.json["error"]["code"] == "not_found"
    assert client("sample_page").get("/api/pages/seven").status_code == 404


def test_a_method_the_function_does_not_take_is_405_with_allow(client: Client) -> None:
    response = client("sample_echo").delete("/api/samples/a")
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS, POST"


def test_cors_preflight_is_answered_for_an_allowed_origin(client: Client) -> None:
    response = client("sample_echo").options(
        "/api/samples/a",
        headers={
            "Origin": SITE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert set(response.headers["Access-Control-Allow-Methods"].split(", ")) >= {"GET", "POST"}
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert "Origin" in response.headers["Vary"]


def test_cors_headers_are_sent_only_to_allowed_origins_and_always_vary(client: Client) -> None:
    echo = client("sample_echo")
    allowed = echo.get("/api/samples/a", headers={"Origin": SITE})
    assert allowed.headers["Access-Control-Allow-Origin"] == SITE
    assert "Origin" in allowed.headers["Vary"]
    other = echo.get("/api/samples/a", headers={"Origin": "https://evil.example"})
    assert other.status_code == 200
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Origin" in other.headers["Vary"]
    error = client("sample_fail").get("/api/fail/missing", headers={"Origin": SITE})
    assert error.headers["Access-Control-Allow-Origin"] == SITE  # errors are readable too


def test_handlers_may_return_no_content_status_and_headers_or_a_response(client: Client) -> None:
    result = client("sample_result")
    empty = result.get("/api/result/none")
    assert (empty.status_code, empty.data) == (204, b"")
    accepted = result.get("/api/result/headers")
    assert accepted.status_code == 202
    assert accepted.headers["Location"] == "/api/samples/1"
    assert accepted.json == {"ok": True}
    csv = result.get("/api/result/csv")
    assert (csv.mimetype, csv.data) == ("text/csv", b"a,b\n1,2\n")


def test_routes_match_flask_syntax_and_tolerate_a_trailing_slash() -> None:
    route = Route("/api/agents/<agent_id>/backtests/<int:n>")
    assert route.match("/api/agents/a1/backtests/3") == {"agent_id": "a1", "n": 3}
    assert route.match("/api/agents/a1/backtests/3/") == {"agent_id": "a1", "n": 3}
    assert route.match("/api/agents/a1/backtests/x") is None
    assert route.match("/") is None
    assert Route("/healthz").match("/") == {}  # the bare function URL of a deployed function
    assert Route("/files/<path:rest>").match("/files/a/b.txt") == {"rest": "a/b.txt"}
    with pytest.raises(ValueError, match="converter"):
        Route("/x/<uuid:id>")
