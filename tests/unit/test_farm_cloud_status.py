"""`farm cloud status` and CloudRunDeployments against a local fake of the Cloud Run Admin API v2.

The adapter runs the real google-cloud-run ServicesClient on its REST transport, pointed at
tests/fakes/cloud_run_server.py over plain http (anonymous credentials): the client's own
paging, enum decoding, retries and error mapping are exercised, nothing is mocked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from farm import cli
from functions.registry import FUNCTIONS
from shared.adapters.gcp.cloud_run import CloudRunDeployments
from shared.errors import BackendAccessError, InvalidInputError, TransientError
from tests.fakes.cloud_run_server import FakeCloudRun, gen2_service

PROJECT, REGION = "farm-prod", "europe-west1"


@pytest.fixture
def fake() -> Iterator[FakeCloudRun]:
    server = FakeCloudRun(page_size=5)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def adapter(fake: FakeCloudRun) -> CloudRunDeployments:
    return CloudRunDeployments(endpoint=fake.endpoint, timeout_s=5)


@pytest.fixture(autouse=True)
def clean_farm_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FARM_GCP_PROJECT", "FARM_GCP_REGION", "FARM_BACKEND"):
        monkeypatch.delenv(name, raising=False)


def deploy_registry(fake: FakeCloudRun, *, skip: str | None = None) -> None:
    for spec in FUNCTIONS:
        if spec.name != skip:
            fake.deploy(PROJECT, REGION, gen2_service(PROJECT, REGION, spec.name))


# --- the adapter ----------------------------------------------------------------------------


def test_lists_every_service_across_pages_with_url_short_revision_and_readiness(
    fake: FakeCloudRun, adapter: CloudRunDeployments
) -> None:
    for i in range(12):
        fake.deploy(PROJECT, REGION, gen2_service(PROJECT, REGION, f"farm-f{i:02d}", revision=f"0000{i % 9 + 1}-x"))

    services = adapter.list_services(PROJECT, REGION)

    assert [s.name for s in services] == [f"farm-f{i:02d}" for i in range(12)]
    first = services[0]
    assert first.url == "https://farm-f00-7a3kq2xbcd-eu.a.run.app"
    assert first.latest_revision == "farm-f00-00001-x" and first.ready and first.reason is None
    pages = [query.get("pageToken", [""])[0] for _, query, _ in fake.requests]
    assert pages == ["", "5", "10"]  # the client followed nextPageToken to the end
    # The REST transport asks for numeric enums; readiness decoded from them proves the round trip.
    assert all(query["$alt"] == ["json;enum-encoding=int"] for _, query, _ in fake.requests)


def test_a_failed_rollout_is_not_ready_and_names_the_reason_and_message(
    fake: FakeCloudRun, adapter: CloudRunDeployments
) -> None:
    fake.deploy(PROJECT, REGION, gen2_service(PROJECT, REGION, "farm-agents", revision=None, ready=False,
                                              reason="CONTAINER_MISSING", message="Image 'x' not found."))

    (status,) = adapter.list_services(PROJECT, REGION)

    assert status.ready is False and status.latest_revision is None
    assert status.reason == "failed: CONTAINER_MISSING: Image 'x' not found."


def test_a_service_still_serving_its_old_revision_is_ready_with_a_note(
    fake: FakeCloudRun, adapter: CloudRunDeployments
) -> None:
    fake.deploy(PROJECT, REGION, gen2_service(PROJECT, REGION, "farm-agents", revision="00002-old",
                                              created_revision="00003-new"))

    (status,) = adapter.list_services(PROJECT, REGION)

    assert status.ready and status.latest_revision == "farm-agents-00002-old"
    assert status.reason == "latest created revision farm-agents-00003-new is not ready yet"


def test_get_service_returns_one_service_or_none_when_it_is_not_deployed(
    fake: FakeCloudRun, adapter: CloudRunDeployments
) -> None:
    fake.deploy(PROJECT, REGION, gen2_service(PROJECT, REGION, "farm-healthz"))

    found = adapter.get_service(PROJECT, REGION, "farm-healthz")

    assert found is not None and found.name == "farm-healthz" and found.ready
    assert adapter.get_service(PROJECT, REGION, "farm-nothing") is None
    assert fake.requests[-1][0] == f"/v2/projects/{PROJECT}/locations/{REGION}/services/farm-nothing"


def test_no_credentials_travel_to_a_plain_http_endpoint(fake: FakeCloudRun, adapter: CloudRunDeployments) -> None:
    fake.deploy(PROJECT, REGION, gen2_service(PROJECT, REGION, "farm-healthz"))

    adapter.list_services(PROJECT, REGION)

    assert [auth for _, _, auth in fake.requests] == [None]


def test_api_errors_become_platform_errors(fake: FakeCloudRun, adapter: CloudRunDeployments) -> None:
    fake.deploy(PROJECT, REGION, gen2_service(PROJECT, REGION, "farm-healthz"))

    with pytest.raises(BackendAccessError, match="run.services.list"):
        adapter.list_services("someone-elses-project", REGION)
    fake.fail_next(500)
    with pytest.raises(TransientError, match="unavailable"):
        adapter.list_services(PROJECT, REGION)
    with pytest.raises(InvalidInputError, match="region"):
        adapter.list_services(PROJECT, "europe-west1/../x")


def test_a_momentary_503_is_retried_by_the_client_and_the_listing_succeeds(
    fake: FakeCloudRun, adapter: CloudRunDeployments
) -> None:
    fake.deploy(PROJECT, REGION, gen2_service(PROJECT, REGION, "farm-healthz"))
    fake.fail_next(503)

    assert [s.name for s in adapter.list_services(PROJECT, REGION)] == ["farm-healthz"]
    assert len(fake.requests) == 2


def test_an_unreachable_endpoint_is_a_transient_error() -> None:
    stopped = FakeCloudRun()
    stopped.close()

    with pytest.raises(TransientError, match="cannot reach"):
        CloudRunDeployments(endpoint=stopped.endpoint, timeout_s=2).list_services(PROJECT, REGION)


# --- the command ----------------------------------------------------------------------------


def status_args(fake: FakeCloudRun, *extra: str) -> list[str]:
    return ["cloud", "status", "--project", PROJECT, "--region", REGION, "--endpoint", fake.endpoint, *extra]


def test_status_prints_one_row_per_registry_function_with_trigger_url_revision_and_readiness(
    fake: FakeCloudRun, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy_registry(fake)

    assert cli.main(status_args(fake)) == 0

    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("farm-")}
    assert set(lines) == {spec.name for spec in FUNCTIONS}
    agents = lines["farm-agents"]
    assert "http GET,POST /api/agents" in agents
    assert "https://farm-agents-7a3kq2xbcd-eu.a.run.app" in agents
    assert "farm-agents-00001-abc" in agents and agents.rstrip().endswith("True")
    assert "pubsub backtest-requests" in lines["farm-on-backtest-request"]
    assert "firestore agents created" in lines["farm-on-agent-created"]
    assert f"{len(FUNCTIONS)} functions: {len(FUNCTIONS)} ready, 0 not ready, 0 not deployed" in out


def test_status_marks_missing_failing_and_unregistered_services_and_exits_1(
    fake: FakeCloudRun, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy_registry(fake, skip="farm-leaderboard")
    fake.deploy(PROJECT, REGION, gen2_service(PROJECT, REGION, "farm-agents", revision="00001-abc", ready=False,
                                              reason="REVISION_FAILED", message="Container failed to start."))
    fake.deploy(PROJECT, REGION, gen2_service(PROJECT, REGION, "farm-old-webhook"))
    fake.deploy(PROJECT, REGION, gen2_service(PROJECT, REGION, "website"))  # not ours: not listed

    assert cli.main(status_args(fake)) == 1

    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith(("farm-", "website"))}
    assert lines["farm-leaderboard"].rstrip().endswith("NOT DEPLOYED")
    assert "False (failed: REVISION_FAILED: Container failed to start.)" in lines["farm-agents"]
    assert "[not in registry]" in lines["farm-old-webhook"]
    assert "website" not in lines
    total = len(FUNCTIONS)
    summary = f"{total} functions: {total - 2} ready, 1 not ready, 1 not deployed"
    assert f"{summary}; 1 farm-* service not in the registry" in out


def test_status_as_json_gives_every_row_with_its_fields(fake: FakeCloudRun, capsys: pytest.CaptureFixture[str]) -> None:
    deploy_registry(fake, skip="farm-healthz")

    assert cli.main(status_args(fake, "--json")) == 1

    rows = {row["function"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["farm-healthz"] == {"function": "farm-healthz", "trigger": "http GET /healthz", "url": None,
                                    "revision": None, "deployed": False, "ready": False, "reason": None,
                                    "in_registry": True}
    assert rows["farm-agents"]["ready"] and rows["farm-agents"]["revision"] == "farm-agents-00001-abc"


def test_status_reads_project_and_region_from_the_settings(
    fake: FakeCloudRun, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy_registry(fake)
    monkeypatch.setenv("FARM_GCP_PROJECT", PROJECT)
    monkeypatch.setenv("FARM_GCP_REGION", REGION)

    assert cli.main(["cloud", "status", "--endpoint", fake.endpoint]) == 0
    assert f"project {PROJECT}, region {REGION}" in capsys.readouterr().out


def test_status_without_a_project_or_with_a_forbidden_one_exits_2_with_the_reason(
    fake: FakeCloudRun, capsys: pytest.CaptureFixture[str]
) -> None:
    deploy_registry(fake)

    assert cli.main(["cloud", "status", "--endpoint", fake.endpoint]) == 2
    assert "give --project or set FARM_GCP_PROJECT" in capsys.readouterr().err
    assert cli.main(["cloud", "status", "--project", "not-mine", "--endpoint", fake.endpoint]) == 2
    assert "Permission 'run.services.list' denied" in capsys.readouterr().err
