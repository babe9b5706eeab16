"""A sandbox that cannot be what it should be does not start: a clear error, never a bare run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from shared.adapters.local import sandbox as sandbox_module
from shared.adapters.local.sandbox import (
    BubblewrapSandbox,
    SandboxConfig,
    SandboxLimits,
)
from shared.errors import FarmError, SandboxUnavailableError
from tests.unit.sandbox.probes import PROBE_PACKAGE, Project


def test_a_machine_without_bubblewrap_gets_a_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setattr(sandbox_module, "_SYSTEM_PATH", str(empty))  # where the tools are looked up
    box = BubblewrapSandbox()

    with pytest.raises(SandboxUnavailableError, match="needs `bwrap`.*apt-get install bubblewrap"):
        box.popen(["/usr/bin/true"], workspace=tmp_path, limits=SandboxLimits())
    assert issubclass(SandboxUnavailableError, FarmError)


def test_a_sandbox_whose_set_up_fails_never_runs_the_command(
        sandbox: BubblewrapSandbox, workspace: Path, tmp_path: Path) -> None:
    vanished = tmp_path / "vanished"
    vanished.mkdir()
    box = BubblewrapSandbox(SandboxConfig(packages=(vanished,), hidden=sandbox.config.hidden))
    box.check()
    vanished.rmdir()  # the bind source is gone by the time the run starts
    marker = workspace / "ran"

    process = box.popen(["/usr/bin/touch", "/workspace/ran"], workspace=workspace,
                        limits=SandboxLimits(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    with pytest.raises(SandboxUnavailableError, match="did not start"):
        process.wait_started()
    assert process.returncode not in (None, 0) and not marker.exists()


def test_a_bind_that_would_expose_the_data_dir_is_refused(
        sandbox: BubblewrapSandbox, workspace: Path, project: Project) -> None:
    box = BubblewrapSandbox(SandboxConfig(packages=(project.root, PROBE_PACKAGE),
                                          hidden=(project.data,)))

    inside = BubblewrapSandbox(SandboxConfig(packages=(project.data / "keys", PROBE_PACKAGE),
                                             hidden=(project.data,)))

    for refused in (box, inside):
        with pytest.raises(SandboxUnavailableError, match=r"would expose .*\.farm"):
            refused.popen(refused.python_argv("sandbox_probe", "env"), workspace=workspace,
                          limits=SandboxLimits())


def test_a_workspace_that_is_not_a_directory_is_refused(
        sandbox: BubblewrapSandbox, tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")

    for bad in (tmp_path / "missing", tmp_path / "link"):
        with pytest.raises(SandboxUnavailableError, match="must be an existing directory"):
            sandbox.popen(["/usr/bin/true"], workspace=bad, limits=SandboxLimits())


def test_credentials_are_refused_even_when_the_host_passes_them(
        sandbox: BubblewrapSandbox, workspace: Path) -> None:
    for name in ("APCA_API_SECRET_KEY", "GOOGLE_APPLICATION_CREDENTIALS", "FARM_TOKEN",
                 "FARM_REDIS_URL", "SIGNING_KEY"):
        with pytest.raises(ValueError, match="credentials never enter a sandbox"):
            sandbox.popen(["/usr/bin/true"], workspace=workspace, limits=SandboxLimits(),
                          env={name: "x"})


def test_the_report_says_what_this_machine_enforces(sandbox: BubblewrapSandbox) -> None:
    caps = sandbox.capabilities()

    assert caps.bwrap_version.startswith("bubblewrap ")
    assert (caps.cgroup is None) == any("memory and pids" in m for m in caps.missing)
    assert caps.seccomp == (not any("seccomp" in m for m in caps.missing))
