"""The OpenAPI document and the function registry describe the same routes, both ways.

Every HTTP function's path (in OpenAPI `{param}` form) and every method it serves has an
operation; every documented operation is served; and the builder refuses to build a document
when they disagree, so a new function cannot be forgotten.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
import schemathesis

from functions.openapi_document import (
    OPERATIONS,
    IncompleteDocumentError,
    check_complete,
    openapi_document,
    openapi_path,
)
from functions.registry import FUNCTIONS, FunctionSpec, HttpTrigger

HTTP_SPECS = [s for s in FUNCTIONS if isinstance(s.trigger, HttpTrigger)]


def _served() -> set[tuple[str, str]]:
    # Written out here (not via the module's helper) so the test does not trust the code it checks.
    found = set()
    for spec in HTTP_SPECS:
        assert isinstance(spec.trigger, HttpTrigger)
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", spec.trigger.path)
        found |= {(path, m.lower()) for m in spec.trigger.methods if m != "OPTIONS"}
    return found


def _documented(document: dict) -> set[tuple[str, str]]:
    verbs = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return {(p, m) for p, item in document["paths"].items() for m in item if m in verbs}


def test_every_registry_route_and_method_has_an_operation() -> None:
    missing = _served() - _documented(openapi_document())
    assert not missing, f"routes without an OpenAPI operation: {sorted(missing)}"


def test_every_documented_operation_is_served_by_a_registry_function() -> None:
    unknown = _documented(openapi_document()) - _served()
    assert not unknown, f"documented but not served: {sorted(unknown)}"


def test_the_routes_named_in_the_spec_are_all_documented() -> None:
    paths = openapi_document()["paths"]
    expected = {
        "/api/agents": {"get", "post"}, "/api/agents/{agent_id}": {"get", "delete"},
        "/api/agents/{agent_id}/backtests": {"get", "post"}, "/api/backtests/{run_id}": {"get"},
        "/api/backtests/{run_id}/chart": {"get"}, "/api/backtests/{run_id}/curves": {"get"},
        "/api/backtests/{run_id}/output": {"get"}, "/api/agents/{agent_id}/paper-trading/pause": {"post"},
        "/api/agents/{agent_id}/paper-trading/resume": {"post"},
        "/api/agents/{agent_id}/paper-trading/output": {"get"},
        "/api/broker/accounts": {"post"}, "/api/broker/accounts/{account_id}": {"get"},
        "/api/broker/accounts/{account_id}/funding": {"post"},
        "/api/agents/{agent_id}/paper-trading": {"get", "post", "delete"},
        "/api/leaderboard": {"get"}, "/api/leaderboard/agents/{agent_id}": {"get"},
        "/api/fmel/decisions": {"get"}, "/api/fmel/agents/{agent_id}/analytics": {"get"},
        "/api/fmel/agents/{agent_id}/export": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path


def test_flask_paths_convert_to_openapi_templates() -> None:
    assert openapi_path("/api/agents/<agent_id>/backtests") == "/api/agents/{agent_id}/backtests"
    assert openapi_path("/api/things/<int:n>/<path:rest>") == "/api/things/{n}/{rest}"
    assert openapi_path("/healthz") == "/healthz"


def test_the_builder_fails_loudly_when_a_registry_route_has_no_operation() -> None:
    forgotten = FunctionSpec(name="farm-forgotten", module="functions.forgotten", entry_point="forgotten",
                             trigger=HttpTrigger("/api/forgotten/<thing_id>", ("GET", "PUT")))
    with pytest.raises(IncompleteDocumentError) as raised:
        check_complete((*FUNCTIONS, forgotten), OPERATIONS)
    message = str(raised.value)
    assert "GET /api/forgotten/{thing_id}" in message and "PUT /api/forgotten/{thing_id}" in message


def test_the_builder_fails_loudly_when_a_method_of_a_known_route_is_undocumented() -> None:
    specs = tuple(
        replace(s, trigger=HttpTrigger(s.trigger.path, (*s.trigger.methods, "PATCH")))
        if isinstance(s.trigger, HttpTrigger) and s.trigger.path == "/api/backtests/<run_id>" else s
        for s in FUNCTIONS
    )
    with pytest.raises(IncompleteDocumentError, match=r"PATCH /api/backtests/\{run_id\}"):
        check_complete(specs, OPERATIONS)


def test_the_builder_fails_loudly_when_an_operation_has_no_registry_route() -> None:
    extra = {**OPERATIONS, "/api/ghost": {"get": {"responses": {"200": {"description": "never served"}}}}}
    with pytest.raises(IncompleteDocumentError, match="GET /api/ghost is documented but no registry"):
        check_complete(FUNCTIONS, extra)


def test_every_operation_has_an_id_a_summary_and_error_envelopes() -> None:
    document = openapi_document()
    ids = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            label = f"{method.upper()} {path}"
            ids.append(operation["operationId"])
            assert operation.get("summary"), label
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, f"{label} {status}"
            public = operation.get("security") == []
            if not public:  # behind a bearer token: a 401 and the rate limit's 429 are documented
                assert {"401", "429"} <= set(operation["responses"]), label
                assert "Retry-After" in operation["responses"]["429"]["headers"], label
    assert len(ids) == len(set(ids)), "operationIds must be unique"


def test_every_path_parameter_is_declared_and_the_document_loads_in_schemathesis() -> None:
    document = openapi_document()
    for path, item in document["paths"].items():
        names = set(re.findall(r"\{(\w+)\}", path))
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, f"{method.upper()} {path}"
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]  # ok() raises on a broken one
    assert len(operations) == len(_served())


def test_every_schema_reference_resolves() -> None:
    document = openapi_document()
    text = repr(document)
    refs = set(re.findall(r"#/components/schemas/(\w+)", text))
    assert refs <= set(document["components"]["schemas"]), refs - set(document["components"]["schemas"])


LEGACY = {"/api/agents/submit": "post", "/api/agents/list": "get", "/api/agents/{agent_id}/status": "get",
          "/api/broker/create": "post", "/api/broker/fund": "post", "/api/broker/balance": "get",
          "/api/broker/positions": "get", "/api/paper-trading/start": "post", "/api/paper-trading/stop": "post",
          "/api/paper-trading/status": "get", "/api/leaderboard/user/{agent_id}": "get",
          "/api/leaderboard/top/{n}": "get", "/api/fmel/analytics": "get", "/api/fmel/agent/{agent_id}": "get"}


def test_the_earlier_platforms_routes_are_documented_as_deprecated_aliases() -> None:
    paths = openapi_document()["paths"]
    for path, method in LEGACY.items():
        operation = paths[path][method]
        assert operation["deprecated"] is True, path
        assert "Deprecated alias of" in operation["summary"], path
        ok = next(r for status, r in operation["responses"].items() if status.startswith("2"))
        assert "Deprecation" in ok["headers"], path
    modern = [op for item in paths.values() for op in item.values() if not op.get("deprecated")]
    assert modern and all("Deprecated" not in op["summary"] for op in modern)


def test_generators_get_one_case_per_enum_and_multipart_only_for_file_submissions() -> None:
    document = openapi_document()
    for item in document["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                values = parameter["schema"].get("enum") or []
                folded = [str(v).lower() for v in values]
                assert len(folded) == len(set(folded)), (operation["operationId"], parameter["name"], values)
    submit = document["paths"]["/api/agents"]["post"]["requestBody"]["content"]
    assert list(submit) == ["multipart/form-data"]
