"""Helpers for the reconciliation tests: a real paper session on the embedded stack, then its replay.

Bars are archived into `market_data.bars` exactly as the ingester archives them (the message's
own row and `data_hash`) and published on the bus the runtime subscribes to; a test drops,
alters or delays some between the two. The runtime is the real `AgentRuntime` with the agent
in its bubblewrap sandbox and the `SimulatedBroker` on the documents store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jobs.reconcile.job import run_reconciliation
from runtime.app import AgentRuntime, RuntimeOptions
from shared.adapters.local.sandbox import SandboxLimits
from shared.app import Application
from shared.harness.sandboxed import SandboxedAgentLauncher
from shared.market.messages import BarMessage, encode
from shared.schemas.collections import RECONCILIATIONS, SESSIONS
from shared.schemas.messages import RunReconciliation
from shared.schemas.topics import MARKET_DATA
from shared.services import reconciliations
from tests.fixtures.common import wait_for
from tests.unit.runtime.stack import backtested_agent, make_bar, session_for

OPTIONS = RuntimeOptions(heartbeat_s=0.3, flush_s=0.3)


@dataclass
class Session:
    """A finished paper session of one agent."""

    agent_id: str
    session_id: str
    decisions: int


def bars(symbol: str, count: int, start: int = 0) -> list[BarMessage]:
    """`count` one-minute bars of `symbol` whose prices wander enough to cross averages."""
    return [make_bar(symbol, i, price=100.0 + 5.0 * ((i * 7) % 11) / 10.0 + (i % 5))
            for i in range(start, start + count)]


def archive(platform: Application, messages: Sequence[BarMessage]) -> None:
    """Write bars to `market_data.bars` as the ingester's archive does."""
    at = datetime.now(UTC)
    platform.warehouse.insert_rows("market_data.bars", [m.row() | {"ingested_at": at} for m in messages])


def publish(platform: Application, messages: Sequence[BarMessage]) -> None:
    """Publish bars on the market-data topic, as the ingester does."""
    platform.messages.create_topic(MARKET_DATA)
    platform.messages.publish(MARKET_DATA, [encode(m) for m in messages])



def decisions(platform: Application, session_id: str) -> int:
    """How many decisions of the session the warehouse holds."""
    rows = platform.warehouse.query("SELECT decision_point FROM fmel.decisions WHERE session_id = @s",
                                    {"s": session_id})
    return len({r["decision_point"] for r in rows})


def run_runtime(platform: Application, session_id: str, deliver: Callable[[], int],
                options: RuntimeOptions = OPTIONS) -> None:
    """Run the session's runtime until `deliver()` (called once it trades) has been decided on.

    `deliver` publishes bars and returns the decisions they make (one per distinct bar time).
    """
    runtime = AgentRuntime(platform, session_id, options)
    result: dict[str, int] = {}
    thread = threading.Thread(target=lambda: result.setdefault("code", runtime.run()), daemon=True)
    thread.start()
    try:
        assert runtime.ready.wait(20), "the runtime did not become ready"
        before = int((platform.documents.get(SESSIONS, session_id) or {}).get("last_decision_point") or 0)
        expected = before + deliver()
        wait_for(lambda: int((platform.documents.get(SESSIONS, session_id) or {}).get("last_decision_point") or 0)
             >= expected, 30, f"decision {expected}")
    finally:
        runtime.request_stop()
        thread.join(30)
    assert result.get("code") == 0, (platform.documents.get(SESSIONS, session_id) or {}).get("error")


def paper_session(platform: Application, *, agent_id: str, code: str | None = None, symbols: Sequence[str] = ("AAPL",),
                  archived: Sequence[BarMessage], delivered: Sequence[BarMessage],
                  options: RuntimeOptions = OPTIONS) -> Session:
    """Archive `archived`, run a session that gets `delivered`, wait until everything is recorded."""
    kwargs = {"code": code} if code is not None else {}
    backtested_agent(platform, agent_id=agent_id, **kwargs)
    session_id = session_for(platform, agent_id, list(symbols), session_id=f"ps-{agent_id}")
    archive(platform, archived)

    def deliver() -> int:
        publish(platform, delivered)
        return len({m.bar.timestamp for m in delivered})

    run_runtime(platform, session_id, deliver, options)
    return Session(agent_id, session_id, wait_for(lambda: decisions(platform, session_id), 10, "FMEL rows"))


def reconcile(platform: Application, agent_id: str, work: Path, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Request a reconciliation and run its job in this process; return the stored document."""
    platform.messages.create_topic(RunReconciliation.TOPIC)
    queued = reconciliations.request_reconciliation("alice", agent_id, body or {}, documents=platform.documents,
                                                    messages=platform.messages)
    rid = queued["reconciliation_id"]
    platform.documents.update(RECONCILIATIONS, rid, {"status": "running"})
    launcher = SandboxedAgentLauncher.for_data_dir(Path(platform.settings.data_dir), SandboxLimits(cpu_seconds=120))
    run_reconciliation(rid, platform, launcher, work / rid)
    return reconciliations.get_reconciliation("alice", agent_id, rid, documents=platform.documents)
