"""Test helpers for backtests: the local application on real embedded stores, agents seeded as stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.app import Application
from shared.domain.clock import now_iso
from shared.domain.lifecycle import AgentStatus
from shared.schemas.topics import ALL_TOPICS
from shared.validation.bundle import bundle_from_source
from tests.app_factory import embedded_app
from tests.fixtures.agents import agent_in, store_agent

ROOT = Path(__file__).resolve().parents[3]
SMA_SOURCE = (ROOT / "examples" / "sma_crossover.py").read_text()
RAISING_SOURCE = '''import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        if len(self) > 3:
            self.explode()

    def explode(self):
        raise ZeroDivisionError("agent bug on bar %d" % len(self))
'''
LOOPING_SOURCE = '''import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        while True:
            pass
'''


def embedded_platform(data_dir: Path, **settings: Any) -> Application:
    """The local application in `data_dir`, warehouse tables and every topic created."""
    app = embedded_app(data_dir, **settings)
    app.warehouse.ensure_tables()
    for topic in ALL_TOPICS:
        app.messages.create_topic(topic)
    return app


def seed_agent(platform: Application, agent_id: str, source: str, *, owner: str = "alice") -> dict[str, Any]:
    """Store an agent's bundle and document in status `stored`, as the agents API leaves it."""
    key = f"agents/{owner}/{agent_id}/bundle.zip"
    platform.blobs.put(key, bundle_from_source(source.encode()).to_zip(), content_type="application/zip")
    agent = agent_in(AgentStatus.STORED, agent_id, owner_uid=owner, at=now_iso(), bundle_key=key)
    return store_agent(platform.documents, agent).to_document()
