"""The agents API over real HTTP: the local host on a free port, embedded stores, Redis limits.

Covers auth (401), upload limits (413), content types (415), validation reports (422),
duplicates (409, also concurrent), rate limits (429 + Retry-After), pagination, tenant
isolation on every route, and the agents-created trigger publishing a backtest request.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from farm.host import FunctionHost
from functions.edge.agent_uploads import MAX_BODY_BYTES
from shared.app import Application
from shared.schemas.messages import RunBacktest
from shared.services.auto_backtest import auto_run_id
from tests.fixtures.common import AFTER_STORED
from tests.functions.agents_stack import (
    WATCHER,
    Tokens,
    agent_source,
    local_platform,
    running_host,
)

SUBMISSIONS_PER_MINUTE = 5


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str
) -> Iterator[tuple[FunctionHost, Application, Tokens]]:
    data_dir = tmp_path_factory.mktemp("agents-api")
    limits = ("requests=1000/60", f"submissions={SUBMISSIONS_PER_MINUTE}/60")
    platform = local_platform(data_dir, redis_url, limits)
    with running_host(platform) as host:
        yield host, platform, Tokens(data_dir)


@pytest.fixture
def api(stack: tuple[FunctionHost, Application, Tokens]) -> str:
    return stack[0].url + "/api/agents"


@pytest.fixture
def tokens(stack: tuple[FunctionHost, Application, Tokens]) -> Tokens:
    return stack[2]


@pytest.fixture
def platform(stack: tuple[FunctionHost, Application, Tokens]) -> Application:
    return stack[1]


def user() -> str:
    """A fresh user id, so rate-limit counters and agent lists never leak between tests."""
    return f"user-{uuid.uuid4().hex[:12]}"


def submit(api: str, headers: dict[str, str], code: str, name: str = "sma") -> requests.Response:
    return requests.post(api, json={"name": name, "code": code}, headers=headers, timeout=30)


# --- auth ---------------------------------------------------------------------------------


def test_every_agents_route_refuses_a_request_without_a_token(api: str) -> None:
    for method, url in (("GET", api), ("POST", api), ("GET", api + "/x"), ("DELETE", api + "/x")):
        response = requests.request(method, url, timeout=10)
        assert response.status_code == 401, (method, url)
        assert response.json()["error"]["code"] == "unauthenticated"


def test_expired_and_tampered_tokens_are_401_and_a_raw_token_is_accepted(
    api: str, tokens: Tokens
) -> None:
    expired = tokens.expired("alice")
    head, payload, signature = tokens("alice").split(".")
    tampered = ".".join((head, payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB"), signature))
    for bad in (expired, tampered, "Bearer not-a-jwt", "Basic dXNlcjpwYXNz"):
        response = requests.get(api, headers={"Authorization": bad}, timeout=10)
        assert response.status_code == 401, bad
        assert set(response.json()["error"]) >= {"code", "message"}
    raw = requests.get(api, headers={"Authorization": tokens("alice")}, timeout=10)
    assert raw.status_code == 200


# --- submission ---------------------------------------------------------------------------


def test_a_json_submission_is_stored_with_its_bundle_history_and_a_queued_backtest(
    api: str, tokens: Tokens, platform: Application
) -> None:
    uid = user()
    response = submit(api, tokens.header(uid), agent_source(1), name="SMA one")
    assert response.status_code == 201, response.text
    body = response.json()
    agent_id = body["agent_id"]
    assert body == {"agent_id": agent_id, "status": "stored"}
    assert response.headers["Location"] == f"/api/agents/{agent_id}"
    doc = platform.documents.get("agents", agent_id)
    assert doc is not None
    assert (doc["owner_uid"], doc["name"], doc["deleted"]) == (uid, "SMA one", False)
    # The host launches the automatic backtest at once, so the agent may already have moved on.
    assert [h["to"] for h in doc["history"]][:3] == ["submitted", "validating", "stored"]
    assert doc["status"] in ("stored", "backtesting", "backtested", "backtest_failed")
    with zipfile.ZipFile(io.BytesIO(platform.blobs.get(f"agents/{uid}/{agent_id}/bundle.zip"))) as z:
        assert z.read("agent.py").decode() == agent_source(1)
    run = _wait_for_run(platform, agent_id)
    assert run.run_id == auto_run_id(agent_id) and run.owner_uid == uid
    # Created queued; the host's launcher may already have taken it further.
    assert platform.documents.get("backtests", run.run_id)["status"] in (
        "queued", "running", "succeeded", "failed")


def test_a_multipart_zip_with_requirements_name_description_and_tags_is_accepted(
    api: str, tokens: Tokens, platform: Application
) -> None:
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as z:
        z.writestr("agent.py", agent_source(2))
    files = {
        "file": ("strategy.zip", bundle.getvalue(), "application/zip"),
        "requirements.txt": ("requirements.txt", b"numpy\n", "text/plain"),
    }
    data = {"name": "Zipped", "description": "two SMAs", "tags": "sma, trend ,sma"}
    response = requests.post(api, files=files, data=data, headers=tokens.header(user()), timeout=30)
    assert response.status_code == 201, response.text
    doc = platform.documents.get("agents", response.json()["agent_id"])
    assert doc["tags"] == ["sma", "trend"] and doc["description"] == "two SMAs"
    assert doc["files"] == ["agent.py", "requirements.txt"]


def test_an_invalid_agent_is_422_with_every_finding_located(api: str, tokens: Tokens) -> None:
    code = "import os\nimport backtrader as bt\nclass Agent(bt.Strategy):\n    def next(self):\n        eval('1')\n"
    response = submit(api, tokens.header(user()), code)
    assert response.status_code == 422
    report = response.json()["error"]["details"]
    assert report["ok"] is False and report["error_count"] >= 2
    located = {(f["code"], f["line"]) for f in report["findings"]}
    assert ("forbidden_import", 1) in located
    assert any(line == 5 for _, line in located)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/plain", b"print(1)"), ("application/x-www-form-urlencoded", b"code=x"), (None, b"")],
)
def test_bodies_that_are_neither_multipart_nor_json_are_415(
    api: str, tokens: Tokens, content_type: str | None, body: bytes
) -> None:
    headers = tokens.header(user()) | ({"Content-Type": content_type} if content_type else {})
    response = requests.post(api, data=body, headers=headers, timeout=10)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_an_upload_over_the_limit_is_413_whether_or_not_it_declares_its_length(
    api: str, tokens: Tokens
) -> None:
    big = b"#" * (MAX_BODY_BYTES + 1)
    headers = tokens.header(user()) | {"Content-Type": "application/json"}
    declared = requests.post(api, data=big, headers=headers, timeout=30)
    assert declared.status_code == 413

    def chunks() -> Iterator[bytes]:  # chunked transfer: no Content-Length to check up front
        for start in range(0, len(big), 1 << 20):
            yield big[start : start + (1 << 20)]

    streamed = requests.post(api, data=chunks(), headers=headers, timeout=30)
    assert streamed.status_code == 413
    assert streamed.json()["error"]["code"] == "payload_too_large"


def test_bad_json_and_missing_fields_are_400(api: str, tokens: Tokens) -> None:
    headers = tokens.header(user())
    for body in (b"{not json", b"[1]", b'{"name": "x"}', b'{"code": "x", "name": ""}',
                 b'{"code": "x", "name": "n", "extra": 1}'):
        response = requests.post(api, data=body, headers=headers | {"Content-Type": "application/json"},
                                 timeout=10)
        assert response.status_code == 400, body


def test_the_same_code_twice_is_409_naming_the_existing_agent(api: str, tokens: Tokens) -> None:
    headers = tokens.header(user())
    first = submit(api, headers, agent_source(3))
    second = submit(api, headers, agent_source(3), name="again")
    assert (first.status_code, second.status_code) == (201, 409)
    first_id = first.json()["agent_id"]
    assert second.json()["error"]["details"] == {"agent_id": first_id, "name": "sma"}
    assert second.json()["error"]["message"] == f"you already submitted this code as agent 'sma' ({first_id})"
    other_user = submit(api, tokens.header(user()), agent_source(3))
    assert other_user.status_code == 201  # duplicates are per user


def test_concurrent_identical_submissions_store_exactly_one_agent(
    api: str, tokens: Tokens, platform: Application
) -> None:
    uid = user()
    headers = tokens.header(uid)
    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(r.status_code for r in pool.map(
            lambda _: submit(api, headers, agent_source(4)), range(4)))
    assert statuses == [201, 409, 409, 409]
    stored = platform.documents.query("agents", [_owner(uid)])
    assert len(stored) == 1
    assert platform.blobs.list(f"agents/{uid}/") == [f"agents/{uid}/{stored[0][0]}/bundle.zip"]


def test_the_submissions_limit_answers_429_with_retry_after(api: str, tokens: Tokens) -> None:
    headers = tokens.header(user())
    statuses = [submit(api, headers, agent_source(100 + i)).status_code
                for i in range(SUBMISSIONS_PER_MINUTE)]
    assert statuses == [201] * SUBMISSIONS_PER_MINUTE
    refused = submit(api, headers, agent_source(99))
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["error"]["details"]["limit_class"] == "submissions"
    assert requests.get(api, headers=headers, timeout=10).status_code == 200  # reads still work


# --- list, get, delete --------------------------------------------------------------------


def test_listing_pages_through_the_callers_agents_newest_first(api: str, tokens: Tokens) -> None:
    headers = tokens.header(user())
    created = [submit(api, headers, agent_source(200 + i), name=f"a{i}").json()["agent_id"]
               for i in range(5)]
    seen, token = [], None
    while True:
        params = {"limit": 2} | ({"page_token": token} if token else {})
        page = requests.get(api, params=params, headers=headers, timeout=10).json()
        assert len(page["agents"]) <= 2
        seen += [a["agent_id"] for a in page["agents"]]
        token = page["next_page_token"]
        if token is None:
            break
    assert seen == created[::-1]


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"page_token": "garbage!"}]
)
def test_bad_list_parameters_are_400(api: str, tokens: Tokens, params: dict[str, object]) -> None:
    response = requests.get(api, params=params, headers=tokens.header(user()), timeout=10)
    assert response.status_code == 400


def test_another_users_agent_is_404_on_every_route_and_never_listed(
    api: str, tokens: Tokens
) -> None:
    owner, intruder = tokens.header(user()), tokens.header(user())
    agent_id = submit(api, owner, agent_source(300)).json()["agent_id"]
    assert requests.get(f"{api}/{agent_id}", headers=intruder, timeout=10).status_code == 404
    assert requests.delete(f"{api}/{agent_id}", headers=intruder, timeout=10).status_code == 404
    assert requests.get(api, headers=intruder, timeout=10).json()["agents"] == []
    assert requests.get(f"{api}/{agent_id}", headers=owner, timeout=10).status_code == 200


def test_get_shows_status_report_history_and_empty_backtest_and_session(
    api: str, tokens: Tokens
) -> None:
    headers = tokens.header(user())
    agent_id = submit(api, headers, agent_source(400)).json()["agent_id"]
    agent = requests.get(f"{api}/{agent_id}", headers=headers, timeout=10).json()
    assert agent["agent_id"] == agent_id and agent["status"] in AFTER_STORED
    assert agent["validation"]["ok"] is True and agent["validation"]["findings"] == []
    assert [h["to"] for h in agent["history"]][:3] == ["submitted", "validating", "stored"]
    assert agent["latest_backtest"] is None and agent["paper_session"] is None
    assert "owner_uid" not in agent and "bundle_key" not in agent


def test_delete_is_soft_204_then_404_and_the_code_may_be_submitted_again(
    api: str, tokens: Tokens, platform: Application
) -> None:
    headers = tokens.header(user())
    agent_id = submit(api, headers, agent_source(500)).json()["agent_id"]
    deleted = requests.delete(f"{api}/{agent_id}", headers=headers, timeout=10)
    assert deleted.status_code == 204 and deleted.content == b""
    assert requests.get(f"{api}/{agent_id}", headers=headers, timeout=10).status_code == 404
    assert requests.delete(f"{api}/{agent_id}", headers=headers, timeout=10).status_code == 404
    assert requests.get(api, headers=headers, timeout=10).json()["agents"] == []
    doc = platform.documents.get("agents", agent_id)
    assert doc["deleted"] is True and doc["deleted_at"]
    # A soft delete of an agent that is not trading leaves its lifecycle alone (the automatic
    # backtest may have moved it past `stored` meanwhile).
    assert doc["status"] in ("stored", "backtesting", "backtested", "backtest_failed")
    assert submit(api, headers, agent_source(500)).status_code == 201


def _owner(uid: str) -> object:
    from shared.ports.documents import Filter

    return Filter("owner_uid", "==", uid)


def _wait_for_run(platform: Application, agent_id: str, timeout_s: float = 10.0) -> RunBacktest:
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for message in platform.messages.pull(WATCHER, timeout_s=0.5):
            platform.messages.ack(WATCHER, [message.ack_id])
            run = RunBacktest.decode(message.data)
            if run.agent_id == agent_id:
                return run
    raise AssertionError(f"no backtest request for {agent_id} within {timeout_s}s")
