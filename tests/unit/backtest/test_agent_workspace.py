"""The agent's sandbox gives it its bundle to read and a small /tmp to write: no disk to fill."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.workloads import frames
from shared.harness.backtest_host import run_backtest
from shared.harness.sandboxed import SandboxedAgentLauncher

DATA = frames(1, "1Day", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC))


def test_the_agent_cannot_write_beside_its_bundle_and_its_tmp_is_capped(tmp_path) -> None:
    bundle = tmp_path / "agent" / "bundle"
    bundle.mkdir(parents=True)
    (bundle / "agent.py").write_text('''import backtrader as bt


class Agent(bt.Strategy):
    def start(self):
        for target in ("/workspace/fill.bin", "/workspace/bundle/fill.bin", "/tmp/fill.bin"):
            try:
                with open(target, "wb") as out:
                    for _ in range(128):
                        out.write(bytes(1 << 20))
                print("WROTE", target)
            except OSError as exc:
                print("REFUSED", target, type(exc).__name__)

    def next(self):
        pass
''')

    run = run_backtest(SandboxedAgentLauncher(), bundle, DATA, scratch=tmp_path)

    assert run.error is None, run.error
    assert "REFUSED /workspace/fill.bin" in run.output and "REFUSED /workspace/bundle/fill.bin" in run.output
    assert "REFUSED /tmp/fill.bin" in run.output  # 128 MiB does not fit the 64 MiB /tmp
    assert sorted(p.name for p in bundle.iterdir()) == ["agent.py"]
