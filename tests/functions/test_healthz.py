"""GET /healthz, through functions-framework (as deployed) and through the local host."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from functions_framework import create_app

import functions.healthz
from farm.host import FunctionHost
from functions import _platform
from tests.app_factory import embedded_app


@pytest.fixture
def host(tmp_path: Path) -> Iterator[FunctionHost]:
    with embedded_app(tmp_path) as app, FunctionHost(app, port=0) as running:
        yield running


def test_healthz_answers_ok_under_functions_framework(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K_REVISION", "farm-healthz-00007-abc")
    _platform.use_platform(None)
    client = create_app("healthz", functions.healthz.__file__).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["backend"] == "local"
    assert response.json["revision"] == "farm-healthz-00007-abc"
    assert client.get("/").status_code == 200  # its bare function URL
    assert client.post("/healthz").status_code == 405


def test_healthz_does_not_build_the_platform() -> None:
    _platform.use_platform(None)
    client = create_app("healthz", functions.healthz.__file__).test_client()
    assert client.get("/healthz").status_code == 200
    assert _platform._application is None  # liveness must not wait on (or break with) the stores


def test_healthz_answers_through_the_local_host(host: FunctionHost) -> None:
    with urllib.request.urlopen(f"{host.url}/healthz", timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        assert json.loads(response.read())["status"] == "ok"


def test_the_host_answers_unknown_paths_with_a_404_envelope(host: FunctionHost) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{host.url}/api/nothing-here", timeout=5)
    assert caught.value.code == 404
    assert json.loads(caught.value.read())["error"]["code"] == "not_found"


def test_the_host_leaves_method_checks_to_the_function(host: FunctionHost) -> None:
    request = urllib.request.Request(f"{host.url}/healthz", method="DELETE")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 405
    assert caught.value.headers["Allow"] == "GET, HEAD, OPTIONS"
