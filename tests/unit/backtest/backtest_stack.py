"""Test helpers for backtests: a Platform on real embedded stores, agents seeded as stored.

The warehouse is the real DuckDbWarehouse when it exists, else the schema-checking in-memory
one from the market tests, so these tests run while the DuckDB adapter lands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.adapters.local.blobs import DirectoryBlobStore
from shared.adapters.local.documents import SqliteDocumentStore
from shared.adapters.local.local_identity import LocalIdentityVerifier
from shared.adapters.local.memory_cache import InProcessCache, InProcessRateLimiter
from shared.adapters.local.messages import EmbeddedMessageBus
from shared.bootstrap import Platform
from shared.domain.clock import now_iso
from shared.schemas.collections import AGENTS
from shared.schemas.topics import ALL_TOPICS
from shared.settings import Settings
from shared.validation.bundle import bundle_from_source
from tests.fixtures.common import make_warehouse

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


def embedded_platform(data_dir: Path, **settings: Any) -> Platform:
    """A Platform over embedded stores in `data_dir` (warehouse: DuckDB)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    messages = EmbeddedMessageBus(data_dir / "messages.sqlite3")
    for topic in ALL_TOPICS:
        messages.create_topic(topic)
    return Platform(
        settings=Settings(backend="local", data_dir=data_dir, **settings),
        documents=SqliteDocumentStore(data_dir / "documents.sqlite3"),
        messages=messages,
        warehouse=make_warehouse(data_dir),
        blobs=DirectoryBlobStore(data_dir / "blobs"),
        cache=InProcessCache(),
        rate_limiter=InProcessRateLimiter(),
        identity=LocalIdentityVerifier(data_dir),
    )


def close_platform(platform: Platform) -> None:
    """Close whatever embedded store holds files or threads."""
    for name in ("documents", "messages", "warehouse", "blobs"):
        close = getattr(getattr(platform, name), "close", None)
        if callable(close):
            close()


def seed_agent(platform: Platform, agent_id: str, source: str, *, owner: str = "alice") -> dict[str, Any]:
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
