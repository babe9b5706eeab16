"""Which paper sessions a restarted local stack resumes: wanted running, and still the agent's.

Every session is brought to its state through the paper-trading handlers and the aggregates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.adapters.memory.documents import MemoryDocumentStore
from shared.domain.unit_of_work import UnitOfWork, run_in_transaction
from shared.services import paper_runtime, paper_trading
from shared.services.paper_trading import sessions_to_resume
from tests.fakes.paper_ports import UID, Accounts, Orchestrator, backtested


def _in_uow(documents: MemoryDocumentStore, agent_id: str, change: Callable[[Any, Any], None]) -> None:
    def handle(uow: UnitOfWork) -> None:
        agent = uow.agents.require(agent_id)
        session = uow.sessions.require(agent.paper_session or "")
        change(agent, session)
        uow.agents.save(agent)
        uow.sessions.save(session)

    run_in_transaction(documents, handle)


def _begin_stop(agent: Any, session: Any) -> None:
    agent.move_to(agent.status.STOPPING, at="t")
    session.request_stop(at="t")


def _supersede(agent: Any, session: Any) -> None:
    agent.paper_session = "ps-a-later-one"


def test_only_sessions_still_wanted_and_still_their_agents_are_resumed() -> None:
    documents = MemoryDocumentStore()
    orchestrator = Orchestrator()
    trading = paper_runtime.mark_trading
    steps: dict[str, list[Callable[[str, str], None]]] = {
        "interrupted": [lambda a, s: trading(documents, s, started_at="t"),
                        lambda a, s: paper_runtime.mark_runtime_exited(documents, s)],
        "trading-when-killed": [lambda a, s: trading(documents, s, started_at="t")],
        "stopped": [lambda a, s: paper_trading.stop_paper_trading(UID, a, documents=documents,
                                                                  orchestrator=orchestrator)],
        "stopping": [lambda a, s: _in_uow(documents, a, _begin_stop)],
        "failed": [lambda a, s: paper_trading.mark_failed(documents, s, reason="no runtime")],
        "deleted-agent": [lambda a, s: trading(documents, s, started_at="t"),
                          lambda a, s: paper_runtime.mark_runtime_exited(documents, s),
                          lambda a, s: _in_uow(documents, a, lambda agent, _: agent.delete(at="t"))],
        "superseded": [lambda a, s: trading(documents, s, started_at="t"),
                       lambda a, s: paper_runtime.mark_runtime_exited(documents, s),
                       lambda a, s: _in_uow(documents, a, _supersede)],
    }
    names = {}
    for number, (name, case_steps) in enumerate(steps.items()):
        agent_id = backtested(documents, agent_id=f"{number:032x}")
        cmd = paper_trading.StartPaperTrading(owner_uid=UID, agent_id=agent_id)
        session_id = paper_trading.start_paper_trading(cmd, documents=documents, accounts=Accounts(),
                                                       orchestrator=orchestrator)["session_id"]
        names[session_id] = name
        for step in case_steps:
            step(agent_id, session_id)
    resumed = sorted(names[session_id] for session_id, _ in sessions_to_resume(documents))
    assert resumed == ["interrupted", "trading-when-killed"]
