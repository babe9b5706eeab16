"""What an agent in the sandbox cannot reach: the network, the data dir, the host's files and
environment, any writable place but its workspace, and the host after it ends."""

from __future__ import annotations

import hashlib
import os
import socket
import sys
from pathlib import Path

import pytest

from shared.adapters.local.sandbox import PROJECT_ROOT, BubblewrapSandbox
from tests.unit.sandbox.probes import Project, run_probe


def tree_digest(root: Path) -> dict[str, str]:
    """Map every file under `root` to a hash of its bytes (the tree's whole content)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_no_listener_of_the_host_is_reachable_over_tcp_or_a_unix_socket(
        sandbox: BubblewrapSandbox, workspace: Path, tmp_path: Path) -> None:
    abstract = f"farm-test-{os.getpid()}"
    with socket.create_server(("127.0.0.1", 0)) as listener, \
            socket.socket(socket.AF_UNIX) as unix_listener, \
            socket.socket(socket.AF_UNIX) as abstract_listener:
        unix_path = tmp_path / "farm.sock"
        unix_listener.bind(str(unix_path))
        abstract_listener.bind("\0" + abstract)  # abstract names live in a network namespace
        for server in (listener, unix_listener, abstract_listener):
            server.listen()
            server.setblocking(False)
        port = listener.getsockname()[1]

        tcp = run_probe(sandbox, workspace, "connect", f"127.0.0.1:{port}")
        unix = run_probe(sandbox, workspace, "connect-unix", str(unix_path))
        hidden = run_probe(sandbox, workspace, "connect-unix", f"@{abstract}")

        assert tcp["connect"] == "ConnectionRefusedError" and tcp["interfaces"] == ["lo"]
        assert unix["connect"] == "FileNotFoundError"
        assert hidden["connect"] == "ConnectionRefusedError"
        for server in (listener, unix_listener, abstract_listener):
            with pytest.raises(BlockingIOError):  # nothing from the sandbox ever arrived
                server.accept()


def test_the_data_dir_and_host_secrets_cannot_be_read(
        sandbox: BubblewrapSandbox, workspace: Path, project: Project) -> None:
    secrets = [project.signing_key, project.bundle, Path("/etc/shadow"), Path("/root/.bashrc"),
               PROJECT_ROOT / "pyproject.toml", PROJECT_ROOT / "shared" / "errors.py"]

    report = run_probe(sandbox, workspace, "read", *map(str, secrets))

    assert report == {str(path): "FileNotFoundError" for path in secrets}


def test_host_credentials_in_the_environment_never_reach_the_sandbox(
        sandbox: BubblewrapSandbox, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APCA_API_SECRET_KEY", "APCA_API_KEY_ID", "GOOGLE_APPLICATION_CREDENTIALS",
                 "FARM_REDIS_URL"):
        monkeypatch.setenv(name, "secret-value")

    env = run_probe(sandbox, workspace, "env", env={"RUN_ID": "r1"})

    assert "secret-value" not in env.values()
    assert not [k for k in env if k.startswith(("APCA", "GOOGLE", "FARM_REDIS"))]
    assert env["RUN_ID"] == "r1" and env["PYTHONPATH"] == "/opt/farm/src"


def test_only_the_workspace_and_a_private_tmp_are_writable(
        sandbox: BubblewrapSandbox, workspace: Path, project: Project) -> None:
    before = tree_digest(project.root)
    refused = [project.source / "__init__.py", project.root / "evil.py", project.data / "x",
               project.bundle, Path("/opt/farm/src/shared/__init__.py"), Path("/work/evil"),
               PROJECT_ROOT / "shared" / "evil.py", Path(sys.prefix) / "evil.pth", Path("/evil"),
               Path("/usr/evil"), Path("/etc/evil")]

    report = run_probe(sandbox, workspace, "write", *map(str, refused), "/workspace/out.txt",
                       "/tmp/scratch")

    assert {path for path, result in report.items() if result == "ok"} == {
        "/workspace/out.txt", "/tmp/scratch"}
    assert tree_digest(project.root) == before
    assert not (PROJECT_ROOT / "shared" / "evil.py").exists()
    written = workspace / "out.txt"
    assert written.read_text() == "pwned" and written.stat().st_uid == workspace.stat().st_uid


def test_the_agent_runs_unprivileged_confined_and_in_its_own_pid_namespace(
        sandbox: BubblewrapSandbox, workspace: Path) -> None:
    me = run_probe(sandbox, workspace, "identity")

    uid = int(me["Uid"].split()[0])
    if os.geteuid() == 0:  # a uid of its own, not root's and not nobody's
        assert sandbox.config.uid_first <= uid < sandbox.config.uid_first + sandbox.config.uid_count
    else:
        assert uid == os.getuid()
    assert int(me["CapEff"], 16) == 0 and int(me["CapBnd"], 16) == 0
    assert me["NoNewPrivs"] == "1" and me["pid"] <= 3 and me["cwd"] == "/workspace"
    if sandbox.capabilities().seccomp:
        assert me["Seccomp"] == "2"  # filter mode
    assert ".farm" not in me["root"] and "home" not in me["root"]


def test_the_seccomp_filter_refuses_tracing_namespaces_mounts_and_keyrings(
        sandbox: BubblewrapSandbox, workspace: Path) -> None:
    if not sandbox.capabilities().seccomp:
        pytest.skip(f"no seccomp here: {sandbox.capabilities().missing}")

    errors = run_probe(sandbox, workspace, "escape-syscalls")

    assert errors == {"ptrace": 1, "unshare_user": 1, "unshare_net": 1, "mount": 1, "keyctl": 1,
                      "bpf": 1}  # EPERM each


def test_an_inherited_socket_is_the_only_channel_and_keeps_its_number(
        sandbox: BubblewrapSandbox, workspace: Path) -> None:
    host_end, agent_end = socket.socketpair()
    channel = agent_end.fileno()
    with host_end, agent_end:
        host_end.sendall(b"bar 1")
        report = run_probe(sandbox, workspace, "echo-fd", str(channel), pass_fds=(channel,))
        assert host_end.recv(1024) == b"BAR 1"
    assert report["echoed"] == "bar 1"
    # stdin, stdout, stderr and the channel: no staging, seccomp or info descriptor leaks in
    assert report["fds"] == [0, 1, 2, channel]


def test_a_workspace_inside_the_data_dir_shows_nothing_else_of_it(
        sandbox: BubblewrapSandbox, project: Project) -> None:
    workspace = project.data / "runs" / "r1" / "workspace"
    workspace.mkdir(parents=True)
    (workspace / "agent.py").write_text("class Agent: pass\n")  # put there by the host
    (workspace.parent / "result.json").write_text('{"sharpe": 1.2}')  # the host's, next to it

    report = run_probe(sandbox, workspace, "read", "/workspace/agent.py", str(project.signing_key),
                       str(workspace.parent / "result.json"), "../result.json")

    assert report == {"/workspace/agent.py": "ok", str(project.signing_key): "FileNotFoundError",
                      str(workspace.parent / "result.json"): "FileNotFoundError",
                      "../result.json": "FileNotFoundError"}


def test_a_python_installed_under_tmp_still_runs_inside(project: Project, tmp_path: Path) -> None:
    # A checkout (and its virtualenv) under /tmp, as CI's clean clone may be: the sandbox's
    # private /tmp must not hide it.
    import subprocess

    from shared.adapters.local.sandbox import SandboxConfig, SandboxLimits

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    box = BubblewrapSandbox(SandboxConfig(packages=(project.source,), hidden=(project.data,),
                                          python=str(venv / "bin" / "python")))
    workspace = tmp_path / "ws"
    workspace.mkdir()
    process = box.popen([str(venv / "bin" / "python"), "-c", "import shared"], workspace=workspace,
                        limits=SandboxLimits(),
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0, out.decode(errors="replace")
