"""Test helpers for backtests: the local application on real embedded stores, agents seeded as stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.app import Application
from shared.domain.clock import now_iso
from shared.schemas.collections import AGENTS
from shared.schemas.topics import ALL_TOPICS
from shared.validation.bundle import bundle_from_source
from tests.app_factory import embedded_app

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
    at = now_iso()
    doc = {
        "owner_uid": owner, "name": agent_id, "code_hash": f"hash-{agent_id}", "bundle_key": key,
        "status": "stored", "history": [], "latest_backtest": None, "deleted": False,
        "created_at": at, "updated_at": at,
    }
    platform.documents.create(AGENTS, agent_id, doc)
    return doc
