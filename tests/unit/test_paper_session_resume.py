"""Which paper sessions a restarted local stack resumes: wanted running, and still the agent's."""

from __future__ import annotations

from pathlib import Path

from shared.schemas.collections import AGENTS, SESSIONS
from shared.services.paper_trading import sessions_to_resume
from tests.unit.runtime.stack import backtested_agent, local_platform, session_for


def test_only_sessions_still_wanted_and_still_their_agents_are_resumed(tmp_path: Path) -> None:
    platform = local_platform(tmp_path, None)  # type: ignore[arg-type]  # documents only
    docs = platform.documents
    cases = {
        "interrupted": {"state": "interrupted"},
        "trading-when-killed": {"state": "trading"},
        "stopped": {"state": "stopped", "desired": "stopped"},
        "stopping": {"state": "stopping", "desired": "stopped"},
        "failed": {"state": "failed"},
        "deleted-agent": {"state": "interrupted"},
        "superseded": {"state": "interrupted"},
    }
    for name, changes in cases.items():
        agent_id = f"agent-{name}"
        backtested_agent(platform, agent_id=agent_id, fund=25_000.0)
        session_for(platform, agent_id, ["AAPL"], session_id=f"ps-{name}")
        docs.update(SESSIONS, f"ps-{name}", changes)
        docs.update(AGENTS, agent_id, {"status": "trading"})
    docs.update(AGENTS, "agent-deleted-agent", {"status": "stopped", "deleted": True})
    docs.update(AGENTS, "agent-superseded", {"paper_session": "ps-a-later-one"})
    resumed = sorted(session_id for session_id, _ in sessions_to_resume(docs))
    assert resumed == ["ps-interrupted", "ps-trading-when-killed"]
