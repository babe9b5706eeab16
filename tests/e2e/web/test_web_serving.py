"""The website on the local host: the built site at `/`, client routes answered with index.html,
API paths kept JSON, and the local sign-in mounted only with the local backend, loopback only.

Flask's test client drives the host's real app (the same one `farm up` serves); the last test
signs in over a real socket against a real `farm up` and uses the token on the API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import flask.testing
import pytest

from farm.host import FunctionHost
from farm.website import SIGN_IN_PATH, mount_local_sign_in
from functions.registry import by_name
from shared.app import Application
from shared.errors import PermissionDeniedError
from shared.settings import Settings
from tests.e2e.web.web_stack import farm_up, http

INDEX = "<!doctype html><title>The Farm</title><div id=app></div>"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A stand-in build: index.html and one hashed asset (the real build is tested elsewhere)."""
    (tmp_path / "site" / "assets").mkdir(parents=True)
    (tmp_path / "site" / "index.html").write_text(INDEX)
    (tmp_path / "site" / "assets" / "index-abc123.js").write_text("console.log('farm')")
    return tmp_path / "site"


def _client(site: Path, settings: Settings) -> flask.testing.FlaskClient:
    # Only the settings matter to the website routes: the application builds no store for them.
    host = FunctionHost(Application(settings), [by_name("farm-openapi")], port=0, site_dir=site)
    return host.app.test_client()


def _local(tmp_path: Path) -> Settings:
    return Settings(backend="local", data_dir=tmp_path / "data")


def _gcp(tmp_path: Path) -> Settings:
    return Settings(backend="gcp", gcp_project="farm-test", data_dir=tmp_path / "data")


def _error(response: Any) -> dict[str, Any]:
    return json.loads(response.data)["error"]


def test_the_site_is_served_at_root_and_every_client_route_gets_index_html(tmp_path: Path, site: Path) -> None:
    client = _client(site, _local(tmp_path))
    for path in ("/", "/agents", "/agents/abc123", "/decisions?agent=x", "/leaderboard/abc"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.data.decode() == INDEX
        assert response.headers["Cache-Control"] == "no-cache"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    asset = client.get("/assets/index-abc123.js")
    assert asset.status_code == 200 and asset.data == b"console.log('farm')"
    assert "immutable" in asset.headers["Cache-Control"]


def test_api_paths_stay_json_and_files_outside_the_site_are_never_served(tmp_path: Path, site: Path) -> None:
    (tmp_path / "secret.txt").write_text("not for the web")
    client = _client(site, _local(tmp_path))
    assert client.get("/api/openapi.json").json["openapi"].startswith("3.")  # functions still win
    for path in ("/api/nope", "/api/agents/x/nothing", "/healthz/extra"):
        response = client.get(path)
        assert response.status_code == 404 and _error(response)["code"] == "not_found", path
    assert client.post("/agents").status_code == 404  # the site answers GET and HEAD only
    leaked = client.get("/../secret.txt")
    assert b"not for the web" not in leaked.data


def test_an_unbuilt_site_says_how_to_build_it(tmp_path: Path) -> None:
    client = _client(tmp_path / "missing", _local(tmp_path))
    response = client.get("/")
    assert response.status_code == 404 and "make web" in _error(response)["message"]


def test_local_sign_in_mints_a_token_only_for_a_loopback_client_naming_a_loopback_host(
    tmp_path: Path, site: Path
) -> None:
    client = _client(site, _local(tmp_path))
    assert client.get(SIGN_IN_PATH).json == {"available": True, "backend": "local"}
    ok = client.post(SIGN_IN_PATH, json={"user": "alice"})
    assert ok.status_code == 200 and ok.json["uid"] == "alice" and ok.json["token"].count(".") == 2
    refused = {
        "another machine": client.post(SIGN_IN_PATH, json={"user": "alice"},
                                       environ_base={"REMOTE_ADDR": "192.0.2.7"}),
        "a rebound DNS name": client.post(SIGN_IN_PATH, json={"user": "alice"},
                                          headers={"Host": "attacker.example:8080"}),
        "a foreign page": client.post(SIGN_IN_PATH, json={"user": "alice"},
                                      headers={"Origin": "https://attacker.example"}),
    }
    for why, response in refused.items():
        assert response.status_code == 403, why
        assert "token" not in response.json, why
    assert client.post(SIGN_IN_PATH, data="user=alice",
                       content_type="application/x-www-form-urlencoded").status_code == 400
    assert client.post(SIGN_IN_PATH, json={"user": "../root"}).status_code == 400
    assert client.get(SIGN_IN_PATH, headers={"Host": "[::1]:8080"}).status_code == 200


def test_the_local_sign_in_is_never_reachable_with_the_gcp_backend(tmp_path: Path, site: Path) -> None:
    client = _client(site, _gcp(tmp_path))
    rules = {rule.rule for rule in client.application.url_map.iter_rules()}
    assert SIGN_IN_PATH not in rules
    assert "token" not in client.post(SIGN_IN_PATH, json={"user": "alice"}).get_data(as_text=True)
    probe = client.get(SIGN_IN_PATH)  # the site's client route: index.html, never the JSON answer
    assert probe.data.decode() == INDEX
    with pytest.raises(PermissionDeniedError):
        mount_local_sign_in(flask.Flask("probe"), _gcp(tmp_path))


def test_farm_up_serves_the_site_and_its_sign_in_token_opens_the_api(tmp_path: Path) -> None:
    with farm_up(tmp_path / "data", args=("--no-market-data",)) as up:
        status, headers, body = http("GET", up.url + "/")
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert b'<div id="app">' in body
        status, _, body = http("POST", up.url + SIGN_IN_PATH, body={"user": "carol"},
                               headers={"Content-Type": "application/json"})
        assert status == 200
        token = json.loads(body)["token"]
        status, _, body = http("GET", up.url + "/api/agents", headers={"Authorization": f"Bearer {token}"})
        assert status == 200 and json.loads(body) == {"agents": [], "next_page_token": None}
        assert http("GET", up.url + "/api/agents")[0] == 401
    assert f"website at {up.url}/" in up.output()
