"""Orchestrator port: run one long-lived agent runtime per paper-trading session (SPEC §3, §9).

Locally a supervised subprocess (`shared.adapters.local.orchestrator.LocalOrchestrator`); on
GCP a one-replica StatefulSet per agent. Both run `python -m runtime --session-id <id>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

RuntimeState = Literal["starting", "running", "restarting", "stopped", "failed", "unknown"]


@dataclass(frozen=True)
class RuntimeSpec:
    """What a runtime needs besides its session id: limits and non-secret environment."""

    cpu: float = 0.5  # cores (a limit on GKE; advisory locally)
    memory_mb: int = 2048  # address-space limit locally (DuckDB reserves generously), memory limit on GKE
    env: Mapping[str, str] = field(default_factory=dict)  # never secrets: those come from the platform


@dataclass(frozen=True)
class RuntimeStatus:
    """Where one runtime is."""

    agent_id: str
    session_id: str
    state: RuntimeState
    restarts: int = 0
    pid: int | None = None
    exit_code: int | None = None
    detail: str = ""


class Orchestrator(Protocol):
    """Start, stop and watch agent runtimes."""

    def start(self, agent_id: str, session_id: str, spec: RuntimeSpec) -> RuntimeStatus:
        """Start the runtime of `session_id` (no-op when it already runs); returns at once."""
        ...

    def stop(self, agent_id: str, *, timeout_s: float = 20.0, session_id: str | None = None) -> RuntimeStatus:
        """Stop the agent's runtime gracefully (SIGTERM, then kill after `timeout_s`).

        With `session_id`, only if it still runs that session (a watcher acting on what it saw
        must not stop a session started since); otherwise its current status is returned.
        """
        ...

    def status(self, agent_id: str) -> RuntimeStatus:
        """Where the agent's runtime is; state "unknown" when this orchestrator never ran it."""
        ...

    def list(self) -> list[RuntimeStatus]:
        """Every runtime this orchestrator knows."""
        ...

    def close(self) -> None:
        """Stop what this process supervises: local runtimes get SIGTERM; GKE runtimes run on."""
        ...
