"""Which agent launcher a job's trusted host uses: the local sandbox, or FIFOs to a Cloud Build step."""

from __future__ import annotations

from pathlib import Path

from shared.harness.backtest_host import AgentLauncher
from shared.settings import Settings


def job_agent_launcher(settings: Settings, agent_fifos: Path | None) -> AgentLauncher:
    """FIFOs in `agent_fifos` when the build runs the agent in a step of its own, else bubblewrap
    with the job's CPU budget and the data dir hidden."""
    if agent_fifos is not None:
        from shared.harness.fifos import FifoAgentLauncher

        return FifoAgentLauncher(agent_fifos)
    from shared.adapters.local.sandbox import SandboxLimits
    from shared.harness.sandboxed import SandboxedAgentLauncher

    limits = SandboxLimits(cpu_seconds=int(settings.backtest_budget_s))
    return SandboxedAgentLauncher.for_data_dir(Path(settings.data_dir), limits)
