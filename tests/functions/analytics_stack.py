"""Test helpers for the leaderboard and FMEL APIs: the local application (real DuckDB warehouse),
agents owned by given users, FMEL decision rows and backtest runs to rank."""

from __future__ import annotations

import importlib.util
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from farm.host import FunctionHost
from functions.registry import FUNCTIONS
from shared.app import Application
from shared.domain.lifecycle import AgentStatus
from shared.ports.cache import Cache
from tests.app_factory import embedded_app
from tests.fixtures.agents import agent_in, store_agent

HAS_WAREHOUSE = importlib.util.find_spec("shared.adapters.local.warehouse") is not None
needs_warehouse = pytest.mark.skipif(
    not HAS_WAREHOUSE, reason="needs the DuckDB warehouse adapter (shared.adapters.local.warehouse)"
)
OURS = ("farm-leaderboard", "farm-leaderboard-agent", "farm-fmel-decisions", "farm-fmel-analytics",
        "farm-fmel-export")
T0 = datetime(2025, 3, 3, 14, 30, tzinfo=UTC)


def analytics_platform(data_dir: Path, cache: Cache | None = None) -> Application:
    """The local application under `data_dir`, warehouse tables created; generous rate limits."""
    app = embedded_app(data_dir, rate_limits=("requests=100000/60",), cache=cache)
    app.warehouse.ensure_tables()
    return app


@contextmanager
def serving(platform: Application) -> Iterator[FunctionHost]:
    """Only the leaderboard and FMEL HTTP routes, on a free port."""
    host = FunctionHost(platform, [s for s in FUNCTIONS if s.name in OURS], port=0).start()
    try:
        yield host
    finally:
        host.stop()
        platform.close()


def new_agent(platform: Application, owner: str, name: str = "agent") -> str:
    """Store an agent document owned by `owner`; return its id."""
    agent_id = uuid.uuid4().hex
    store_agent(platform.documents, agent_in(AgentStatus.BACKTESTED, agent_id, owner_uid=owner, name=name))
    return agent_id


def decisions(agent_id: str, user_id: str, session_id: str, mode: str, n: int,
              start: datetime = T0) -> list[dict[str, Any]]:
    """`n` FMEL rows: every third decision trades AAPL, the rest hold; value moves by decision."""
    rows = []
    for i in range(1, n + 1):
        traded = i % 3 == 0
        rows.append({
            "decision_id": f"{session_id}:{i:08d}", "agent_id": agent_id, "user_id": user_id,
            "session_id": session_id, "mode": mode, "decision_point": i,
            "bar_time": start + timedelta(days=i), "recorded_at": start + timedelta(days=i, seconds=1),
            "stage": "prenext" if i == 1 else "next",
            "action": "INACTIVE" if i == 1 else ("TRADED" if traded else "HOLD"),
            "actions": [{"seq": 1, "side": "buy", "symbol": "AAPL", "size": 10.0, "price": 100.0 + i,
                         "order_type": "market", "order_id": f"o-{session_id}-{i}", "status": "completed"}]
            if traded else [],
            "data_accessed": [
                {"symbol": "AAPL", "data_hash": f"h-{i}", "fields": ["close"],
                 "reads": [{"seq": 1, "field": "close", "index": 0, "value": 100.0 + i},
                           {"seq": 2, "field": "close", "index": -1, "value": 99.0 + i}]},
                {"symbol": "MSFT", "data_hash": f"m-{i}", "fields": ["volume"],
                 "reads": [{"seq": 3, "field": "volume", "index": 0, "value": 1000.0 * i}]},
            ],
            "indicators": [{"name": "SMA", "params": "period=10", "line": "", "input": "AAPL close",
                            "index": 0, "value": 95.5 + i}],
            "note": json.dumps({"signal": round(0.1 * i, 2), "reason": "trend"}) if traded else None,
            "access_count": 3, "portfolio_value": 25_000.0 + 10 * i * (1 if i % 2 else -1), "cash": 20_000.0,
            "positions": [{"symbol": "AAPL", "size": 10.0 * (i // 3), "price": 100.0 + i, "value": 1000.0}],
        })
    return rows
