"""In-memory stand-ins for the ports paper trading uses, and a backtested agent to trade.

Fast service tests run the paper-trading handlers over `MemoryDocumentStore` with these: no
runtime process, no orchestrator, no broker venue.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.domain.agent import Agent
from shared.domain.unit_of_work import run_in_transaction
from shared.ports.broker import BrokerAccount
from shared.ports.documents import DocumentStore
from shared.ports.orchestrator import RuntimeSpec, RuntimeStatus

UID = "alice"


@dataclass
class Accounts:
    """The `BrokerAccounts` port as paper trading reads it: one funded account per agent."""

    funded: bool = True

    def account_for_agent(self, owner_uid: str, agent_id: str) -> BrokerAccount | None:
        return BrokerAccount(f"acct-{agent_id}", owner_uid, agent_id, "simulated", "ACTIVE", 25_000.0,
                             25_000.0 if self.funded else 0.0)


@dataclass
class Orchestrator:
    """The `Orchestrator` port without processes: it remembers what it was asked."""

    fail_start: bool = False
    calls: list[tuple[str, str]] = field(default_factory=list)

    def start(self, agent_id: str, session_id: str, spec: RuntimeSpec) -> RuntimeStatus:
        self.calls.append(("start", agent_id))
        if self.fail_start:
            raise RuntimeError("no capacity")
        return RuntimeStatus(agent_id, session_id, "running")

    def stop(self, agent_id: str, *, timeout_s: float = 20.0, session_id: str | None = None) -> RuntimeStatus:
        self.calls.append(("stop", agent_id))
        return RuntimeStatus(agent_id, session_id or "", "stopped")


def backtested(documents: DocumentStore, agent_id: str = "a" * 32) -> str:
    """A backtested agent of `UID`, brought there through its own lifecycle."""
    agent = Agent.submitted(agent_id, owner_uid=UID, at="t0", described={"name": "sma"}, code_hash="h",
                            extra={"bundle_key": "k"})
    agent.backtest_started("run-1", at="t0")
    agent.backtest_finished({"run_id": "run-1", "status": "succeeded", "symbols": ["msft"]}, standard=False, at="t0")
    run_in_transaction(documents, lambda uow: uow.agents.add(agent))
    return agent_id
