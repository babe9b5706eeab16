"""The backtest's Cloud Build request, built from jobs/cloudbuild.backtest.yaml and checked offline.

The trusted `host` step and the sandboxed `agent` step run at the same time and share only the
channel folder and the agent's folder (docs/trust-boundary.md). The agent step's shell wrapper
is run for real with bash, with `docker` replaced by a recorder (the one thing not run here).
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from shared.adapters.gcp.cloud_build import CloudBuildJobLauncher
from shared.errors import InvalidInputError
from shared.harness.fifos import FROM_AGENT, TO_AGENT
from shared.schemas.messages import RunBacktest
from tests.infra.terraform_model import ROOT

RUN = RunBacktest(run_id="agent1-auto", agent_id="agent1", owner_uid="alice", symbols=["AAPL"],
                  start="2023-01-01", end="2024-01-01")
CHANNEL, AGENT_DIR = "/workspace/channel", "/workspace/work/agent"
AGENT_ENV = {"--env=HOME=/tmp", "--env=MPLCONFIGDIR=/tmp", "--env=PYTHONDONTWRITEBYTECODE=1"}


@pytest.fixture
def request_():
    launcher = CloudBuildJobLauncher("demo-project", region="europe-west1", bucket="demo-bucket", budget_s=900)
    assert launcher._client is None  # building a request creates no client
    return launcher.build_request(RUN)


def step(request_, step_id: str):
    [found] = [s for s in request_.build.steps if s.id == step_id]
    return found


def docker_argv(request_) -> list[str]:
    """What the agent step passes to `docker` (the arguments after its wrapper script and $0)."""
    args = list(step(request_, "agent").args)
    assert args[0] == "-c" and 'docker "$$@"' in args[1] and args[2] == "agent"
    return args[3:]


def agent_command(argv: list[str]) -> list[str]:
    """The command the agent's container runs: what follows the image."""
    return argv[argv.index("${_RUNNER_IMAGE}") + 1:]


def test_the_request_targets_the_project_region_and_runs_as_the_backtest_account(request_) -> None:
    assert request_.project_id == "demo-project"
    assert request_.parent == "projects/demo-project/locations/europe-west1"
    subs = request_.build.substitutions
    assert subs["_RUN_ID"] == "agent1-auto" and subs["_BUDGET_S"] == "900" and subs["_BUCKET"] == "demo-bucket"
    assert [s.id for s in request_.build.steps] == ["workspace", "host", "agent"]
    assert request_.build.service_account == (
        "projects/demo-project/serviceAccounts/farm-backtest@demo-project.iam.gserviceaccount.com")
    assert "agent-agent1" in request_.build.tags


def test_host_and_agent_run_at_the_same_time_after_the_workspace_is_laid_out(request_) -> None:
    assert list(step(request_, "workspace").wait_for) == []
    assert list(step(request_, "host").wait_for) == ["workspace"]
    assert list(step(request_, "agent").wait_for) == ["workspace"]  # never after the host: they talk


def test_the_agent_runs_with_no_network_read_only_no_capabilities_and_a_non_root_user(request_) -> None:
    argv = docker_argv(request_)
    assert argv[:2] == ["run", "--rm"]
    for flag in ("--network=none", "--read-only", "--cap-drop=ALL", "--security-opt=no-new-privileges",
                 "--user=65532:65532", "--memory=2g", "--memory-swap=2g", "--cpus=1", "--pids-limit=128"):
        assert flag in argv
    assert any(a.startswith("--tmpfs=/tmp:") and "noexec" in a and "size=" in a for a in argv)
    assert [a for a in argv if a.startswith("--network") or a == "--net"] == ["--network=none"]
    loosening = ("--privileged", "--cap-add", "--device", "--pid", "--ipc", "--uts", "--userns", "--env-file",
                 "--volumes-from", "--mount", "--add-host", "--dns", "--publish", "-p", "-e", "-v")
    assert not [a for a in argv if a.split("=", 1)[0] in loosening]
    assert not [a for a in argv if "unconfined" in a or "docker.sock" in a]


def test_the_agent_sees_only_the_channel_and_its_own_folder_both_read_only(request_) -> None:
    argv = docker_argv(request_)
    mounts = [a for a in argv if a.startswith(("--volume", "--mount", "--tmpfs", "-v"))]
    assert sorted(mounts) == sorted([f"--volume={CHANNEL}:{CHANNEL}:ro", f"--volume={AGENT_DIR}:{AGENT_DIR}:ro",
                                     "--tmpfs=/tmp:rw,noexec,nosuid,nodev,size=256m"])
    assert not any("docker.sock" in a for a in argv)


def test_no_token_credential_or_setting_reaches_the_agent(request_) -> None:
    agent = step(request_, "agent")
    assert not agent.env and not agent.secret_env and not agent.volumes
    argv = docker_argv(request_)
    assert {a for a in argv if a.startswith("--env")} == AGENT_ENV
    assert not any(word in a for a in argv for word in ("GOOGLE", "metadata", "APCA", "FARM_", "TOKEN"))
    assert agent.allow_failure  # the host publishes the result; a killed agent must not end the build


def test_the_agent_runs_the_harness_on_the_channel_under_the_budget(request_) -> None:
    argv = docker_argv(request_)
    assert argv[argv.index("--entrypoint=timeout") + 1:][:4] == ["${_RUNNER_IMAGE}", "-s", "KILL", "${_BUDGET_S}"]
    assert agent_command(argv)[3:] == [
        "python", "-m", "shared.harness.agent_main", "--in-path", f"{CHANNEL}/{TO_AGENT}",
        "--out-path", f"{CHANNEL}/{FROM_AGENT}", "--bundle", f"{AGENT_DIR}/bundle"]


def test_the_agent_reads_the_bundle_where_the_host_unpacks_it() -> None:
    # shared/backtest/workspace.py: prepare() unpacks into <work>/agent/bundle; the host's --work
    # is /workspace/work, so the agent's mount is exactly the agent's folder and nothing of the host's.
    source = (ROOT / "shared" / "backtest" / "workspace.py").read_text()
    assert 'work / "agent" / "bundle"' in source


def test_the_host_step_is_the_trusted_job_and_never_runs_agent_code(request_) -> None:
    host = step(request_, "host")
    assert host.name == "${_RUNNER_IMAGE}" and host.entrypoint == "python"
    assert list(host.args) == ["-m", "jobs.backtest", "--run-id", "${_RUN_ID}", "--agent-fifos", CHANNEL,
                               "--work", "/workspace/work"]
    assert "FARM_BACKEND=gcp" in host.env and "FARM_GCP_PROJECT=$PROJECT_ID" in host.env
    for s in request_.build.steps:
        text = " ".join([s.entrypoint, *s.args])
        assert ("agent_main" in text) == (s.id == "agent"), s.id
        assert (s.name == "${_RUNNER_IMAGE}") == (s.id == "host"), s.id  # the agent's image runs only in docker


def test_the_workspace_step_gives_the_shared_folders_to_the_images_non_root_user(request_) -> None:
    dockerfile = (ROOT / "jobs" / "Dockerfile").read_text()
    assert "USER 10001:10001" in dockerfile and 'ENTRYPOINT ["python", "-m", "jobs.backtest"]' in dockerfile
    script = step(request_, "workspace").args[-1]
    assert script.startswith("install -d -o 10001 -g 10001 -m 0755 ")
    assert set(script.split()[8:]) == {CHANNEL, "/workspace/work", AGENT_DIR, "/workspace/data"}
    assert "FARM_DATA_DIR=/workspace/data" in step(request_, "host").env
    assert "--user=10001" not in docker_argv(request_)  # the agent never gets the host's uid


def test_a_run_id_that_could_break_out_of_a_substitution_is_refused() -> None:
    launcher = CloudBuildJobLauncher("demo-project", bucket="b")
    bad = RunBacktest(**{**RUN.__dict__, "run_id": "x; rm -rf /"})
    with pytest.raises(InvalidInputError):
        launcher.build_request(bad)


# --- the agent step's wrapper script, run by bash --------------------------------------------


def run_wrapper(request_, root: Path, docker_script: str, timeout_s: float = 30.0) -> subprocess.Popen[str]:
    """Start the agent step's bash script with /workspace under `root` and a recording `docker`."""
    bin_dir = root / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "docker"
    fake.write_text("#!/bin/bash\n" + docker_script)
    fake.chmod(0o755)
    # Cloud Build turns $$ into $ and ${_X} into the substitution before the step runs.
    script = step(request_, "agent").args[1].replace("$$", "$").replace("/workspace", str(root))
    argv = ["bash", "-c", script, "agent", *(a.replace("/workspace", str(root)) for a in docker_argv(request_))]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={"PATH": f"{bin_dir}:{os.environ['PATH']}"})


def layout(root: Path) -> tuple[Path, Path]:
    channel, agent = root / "channel", root / "work" / "agent"
    channel.mkdir(parents=True)
    agent.mkdir(parents=True)
    return channel, agent


def test_the_wrapper_waits_for_the_channel_opens_it_to_the_agents_uid_and_runs_docker(request_, tmp_path) -> None:
    channel, _ = layout(tmp_path)
    wrapper = run_wrapper(request_, tmp_path, f'echo "$@" > {tmp_path}/argv\necho agent says hi\nexit 3\n')
    time.sleep(1.5)  # the wrapper must still be waiting: nothing made the channel yet
    assert wrapper.poll() is None and not (tmp_path / "argv").exists()
    old = os.umask(0o022)  # as the host's process: its FIFOs come out 0644
    try:
        os.mkfifo(channel / TO_AGENT, 0o666)
        os.mkfifo(channel / FROM_AGENT, 0o666)
    finally:
        os.umask(old)
    out, _ = wrapper.communicate(timeout=30)
    assert wrapper.returncode == 3 and "agent says hi" in out  # the agent's exit status is the step's
    for name in (TO_AGENT, FROM_AGENT):
        assert stat.S_IMODE((channel / name).stat().st_mode) == 0o666
    assert (tmp_path / "argv").read_text().split()[:3] == ["run", "--rm", "--network=none"]


def test_the_wrapper_ends_at_once_when_the_host_ended_without_a_channel(request_, tmp_path) -> None:
    _, agent = layout(tmp_path)
    wrapper = run_wrapper(request_, tmp_path, f"touch {tmp_path}/ran\n")
    agent.rmdir()  # the host removes its work folder when it ends (a failed prepare included)
    out, _ = wrapper.communicate(timeout=30)
    assert wrapper.returncode == 0 and "host ended before opening the channel" in out
    assert not (tmp_path / "ran").exists()


def test_the_wrapper_caps_the_agents_output_and_says_so(request_, tmp_path) -> None:
    channel, _ = layout(tmp_path)
    os.mkfifo(channel / TO_AGENT)
    os.mkfifo(channel / FROM_AGENT)
    wrapper = run_wrapper(request_, tmp_path, "head -c 3000000 /dev/zero | tr '\\0' x\n")
    out, _ = wrapper.communicate(timeout=30)
    assert wrapper.returncode == 0
    assert out.count("x") == 1 << 20
    assert out.endswith(f"[agent output capped at 1 MiB: {3000000 - (1 << 20)} bytes dropped]\n")

