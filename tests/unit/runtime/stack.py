"""Test helpers for the runtime: a local platform, a funded agent with a session, market bars."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.app import Application
from shared.domain.clock import now_iso
from shared.domain.lifecycle import AgentStatus
from shared.domain.paper_session import PaperSession, topic_for
from shared.domain.timeframe import Timeframe
from shared.domain.unit_of_work import UnitOfWork, run_in_transaction
from shared.market.bars import Bar
from shared.market.messages import BarMessage, encode
from shared.ports.messages import MessageBus
from shared.ports.warehouse import Warehouse
from shared.schemas.collections import AGENTS
from shared.schemas.topics import MARKET_DATA
from tests.app_factory import embedded_app

# Buys 10 shares every 3rd bar while flat, sells them 2 bars later: trades often, reads the feed.
TRADER = '''
import backtrader as bt


class Agent(bt.Strategy):
    def __init__(self):
        self.count = 0

    def next(self):
        self.count += 1
        for data in self.datas:
            close = data.close[0]
            if not self.getposition(data) and self.count % 3 == 0 and close > 0:
                self.buy(data=data, size=10)
            elif self.getposition(data) and self.count % 3 == 2:
                self.close(data=data)
'''
T0 = datetime(2025, 1, 6, 14, 30, tzinfo=UTC)


def bundle(code: str = TRADER) -> bytes:
    """A stored bundle zip with `agent.py` at its root."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("agent.py", code)
    return out.getvalue()


def local_platform(data_dir: Path, warehouse: Warehouse | None) -> Application:
    """The local application under `data_dir` with the given warehouse (None: built if used)."""
    return embedded_app(data_dir, warehouse=warehouse)


def backtested_agent(platform: Application, uid: str = "alice", agent_id: str = "agent-1", code: str = TRADER,
                     fund: float | None = 25_000.0) -> str:
    """Store a `backtested` agent with its bundle, and (when `fund`) a funded account at the app's venue."""
    key = f"agents/{uid}/{agent_id}/bundle.zip"
    platform.blobs.put(key, bundle(code))
    at = now_iso()
    platform.documents.set(AGENTS, agent_id, {
        "owner_uid": uid, "name": agent_id, "status": "backtested", "bundle_key": key, "history": [],
        "latest_backtest": {"symbols": ["AAPL"]}, "paper_session": None, "deleted": False,
        "created_at": at, "updated_at": at,
    })
    accounts = platform.broker_accounts  # the venue the application trades on
    account = accounts.create_account(uid, agent_id)
    if fund:
        accounts.fund(uid, account.account_id, fund, idempotency_key="initial")
    return agent_id


def session_for(platform: Application, agent_id: str, symbols: list[str], session_id: str = "ps-test",
                uid: str = "alice") -> str:
    """Open a session as the paper-trading service does (agent deploying), without a runtime.

    No running-session slot is taken: benchmarks open more sessions than one user may run.
    """
    account = platform.broker_accounts.account_for_agent(uid, agent_id)
    assert account is not None

    def open_session(uow: UnitOfWork) -> None:
        agent, at = uow.agents.owned(agent_id, uid), now_iso()
        uow.sessions.add(PaperSession.open(session_id, owner_uid=uid, agent_id=agent_id, account_id=account.account_id,
                                           symbols=symbols, timeframe=Timeframe.MINUTE, starting_value=account.cash,
                                           at=at))
        agent.move_to(AgentStatus.DEPLOYING, at=at, reason=session_id)
        agent.paper_session = session_id
        uow.agents.save(agent)

    run_in_transaction(platform.documents, open_session)
    return session_id


def make_bar(symbol: str, i: int, price: float | None = None, volume: float = 1000.0) -> BarMessage:
    """The `i`-th one-minute bar of `symbol` after T0."""
    p = price if price is not None else 100.0 + (i % 7)
    bar = Bar(symbol, "1Min", T0 + timedelta(minutes=i), p, p + 1, p - 1, p + 0.5, volume, 12, p + 0.2,
              "test")
    return BarMessage.of("bar", bar)


def publish_bars(bus: MessageBus, symbol: str, indices: range, **kwargs: Any) -> None:
    """Publish bars `indices` of `symbol` on its market topic."""
    bus.create_topic(topic_for(symbol) if "/" in symbol else MARKET_DATA)
    bus.publish(topic_for(symbol), [encode(make_bar(symbol, i, **kwargs)) for i in indices])
