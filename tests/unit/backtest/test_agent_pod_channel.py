"""The GKE channel: an agent in a pod of its own connects to its host over TCP with the session's
token, gets its bundle from the host, and runs exactly as over pipes; a wrong token gets nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from bench.workloads import frames
from shared.harness import wire
from shared.harness.backtest_host import run_backtest
from shared.harness.sandboxed import SandboxedAgentLauncher
from shared.harness.tcp import TcpAgentLauncher
from tests.unit.backtest.backtest_stack import SMA_SOURCE

DATA = frames(2, "1Day", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC))
ROOT = Path(__file__).resolve().parents[3]


def agent_pod(port: int, token: str, bundle: Path) -> subprocess.Popen[str]:
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "FARM_CHANNEL_TOKEN": token}
    return subprocess.Popen([sys.executable, "-m", "shared.harness.agent_main", "--connect", f"127.0.0.1:{port}",
                             "--bundle", str(bundle)], env=env, text=True, stderr=subprocess.PIPE)


def test_an_agent_pod_with_the_token_gets_its_bundle_and_scores_as_over_pipes(tmp_path) -> None:
    host_bundle = tmp_path / "host" / "agent" / "bundle"
    host_bundle.mkdir(parents=True)
    (host_bundle / "agent.py").write_text(SMA_SOURCE)
    launcher = TcpAgentLauncher(0, "s3cret-token", host="127.0.0.1", accept_timeout_s=60)
    # A stranger first: wrong token, then silence. Neither may get the bundle.
    with socket.create_connection(("127.0.0.1", launcher.port)) as stranger:
        stranger.sendall(wire.pack([wire.AUTH, "guess"]))
        pod = agent_pod(launcher.port, "s3cret-token", tmp_path / "pod" / "bundle")
        results = []
        host = threading.Thread(target=lambda: results.append(
            run_backtest(launcher, host_bundle, DATA, scratch=tmp_path / "host")))
        host.start()
        assert stranger.recv(1 << 20) == b""  # refused and closed, no bundle
    host.join(120)
    pod.wait(30)

    [run] = results
    assert run.error is None, (run.error, pod.stderr.read())
    assert (tmp_path / "pod" / "bundle" / "agent.py").read_text() == SMA_SOURCE
    over_pipes = run_backtest(SandboxedAgentLauncher(), host_bundle, DATA, scratch=tmp_path / "pipes")
    assert run.result.metrics.summary() == over_pipes.result.metrics.summary()
    assert run.result.trades == over_pipes.result.trades
