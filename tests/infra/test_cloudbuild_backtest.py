"""The backtest's Cloud Build request, built from jobs/cloudbuild.backtest.yaml and checked offline."""

from __future__ import annotations

import pytest

from shared.adapters.gcp.cloud_build import CloudBuildJobLauncher
from shared.errors import InvalidInputError
from shared.schemas.messages import RunBacktest

RUN = RunBacktest(run_id="agent1-auto", agent_id="agent1", owner_uid="alice", symbols=["AAPL"],
                  start="2023-01-01", end="2024-01-01")


@pytest.fixture
def request_():
    launcher = CloudBuildJobLauncher("demo-project", region="europe-west1", bucket="demo-bucket", budget_s=900)
    assert launcher._client is None  # building a request creates no client
    return launcher.build_request(RUN)


def step(request_, step_id: str):
    [found] = [s for s in request_.build.steps if s.id == step_id]
    return found


def test_the_request_targets_the_project_region_and_names_the_run(request_) -> None:
    assert request_.project_id == "demo-project"
    assert request_.parent == "projects/demo-project/locations/europe-west1"
    subs = request_.build.substitutions
    assert subs["_RUN_ID"] == "agent1-auto" and subs["_BUDGET_S"] == "900" and subs["_BUCKET"] == "demo-bucket"
    assert [s.id for s in request_.build.steps] == ["prepare", "open-workspace", "execute", "finish"]
    assert "agent-agent1" in request_.build.tags


def test_the_agent_runs_with_no_network_read_only_no_capabilities_and_a_non_root_user(request_) -> None:
    args = list(step(request_, "execute").args)
    assert args[:2] == ["run", "--rm"]
    for flag in ("--network=none", "--read-only", "--cap-drop=ALL", "--security-opt=no-new-privileges",
                 "--user=65532:65532", "--pids-limit=256"):
        assert flag in args
    assert any(a.startswith("--tmpfs=/tmp:") for a in args)
    mounts = [a for a in args if a.startswith(("--volume", "-v"))]
    assert mounts == ["--volume=/workspace/run:/workspace/run"]  # no docker socket, no credentials
    assert args[args.index("--entrypoint=timeout") + 1:][:4] == ["${_RUNNER_IMAGE}", "-s", "KILL", "${_BUDGET_S}"]
    assert args[-4:] == ["--phase", "execute", "--workspace", "/workspace/run"]


def test_no_token_or_credentials_reach_the_sandboxed_step(request_) -> None:
    execute = step(request_, "execute")
    assert not execute.env and not execute.secret_env
    assert not any("GOOGLE" in a or "metadata" in a or "APCA" in a for a in execute.args)
    assert step(request_, "execute").allow_failure  # so `finish` reports a killed agent as failed


def test_the_trusted_steps_prepare_and_finish_with_the_platform_settings(request_) -> None:
    for step_id in ("prepare", "finish"):
        s = step(request_, step_id)
        assert s.entrypoint == "python" and f"--phase={step_id}=" in "=".join(s.args) + "="
        assert "FARM_BACKEND=gcp" in s.env and "FARM_GCP_PROJECT=$PROJECT_ID" in s.env


def test_a_run_id_that_could_break_out_of_a_substitution_is_refused() -> None:
    launcher = CloudBuildJobLauncher("demo-project", bucket="b")
    bad = RunBacktest(**{**RUN.__dict__, "run_id": "x; rm -rf /"})
    with pytest.raises(InvalidInputError):
        launcher.build_request(bad)
