"""The OpenAPI document against the running API: schemathesis generates requests for every
operation (positive and negative data) and checks that no answer is a 5xx or breaks the document.

The API runs in the local host on a real port; requests carry a valid local ID token, so the
routes behind auth are exercised, not just their 401s.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from functions._openapi_document import openapi_document
from tests.functions.agents_stack import Tokens, agent_source, local_platform, running_host

EXAMPLES_PER_OPERATION = 15
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    data_dir: Path = tmp_path_factory.mktemp("openapi")
    # Fuzzing sends hundreds of requests a minute; the limits themselves are tested elsewhere.
    platform = local_platform(data_dir, redis_url, ("requests=100000/60", "submissions=100000/60"))
    with running_host(platform) as host:
        yield host.url, Tokens(data_dir).header("schemathesis-user")


def test_the_document_is_served_publicly_and_lists_every_agents_route(
    served: tuple[str, dict[str, str]],
) -> None:
    url, _ = served
    response = requests.get(url + "/api/openapi.json", timeout=10)
    assert response.status_code == 200
    document = response.json()
    assert document == openapi_document()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) >= {"/api/agents", "/api/agents/{agent_id}", "/api/openapi.json"}
    assert set(document["paths"]["/api/agents"]) == {"get", "post"}
    assert set(document["paths"]["/api/agents/{agent_id}"]) == {"get", "delete"}


def test_generated_requests_never_get_a_5xx_or_an_answer_outside_the_document(
    served: tuple[str, dict[str, str]],
) -> None:
    url, auth = served
    # A real agent of this user, so that get and delete also hit existing ids.
    stored = requests.post(url + "/api/agents", json={"name": "seed", "code": agent_source(7)},
                           headers=auth, timeout=30)
    assert stored.status_code == 201
    schema = schemathesis.openapi.from_url(url + "/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5
    session = requests.Session()
    calls = 0
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @hypothesis.settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                                 suppress_health_check=list(HealthCheck))
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            def check(case: schemathesis.Case) -> None:
                nonlocal calls
                response = case.call(base_url=url, session=session, headers=auth, timeout=30)
                calls += 1
                case.validate_response(response, checks=CHECKS)

            try:
                check()
            except hypothesis.errors.Unsatisfiable:
                # An operation with no parameters and no body has no invalid input to send.
                assert mode is GenerationMode.NEGATIVE, operation.label
    print(f"\nschemathesis: {calls} requests over {len(operations)} operations")
    assert calls >= len(operations) * 2
