"""ReplayBroker: the paper runtime's `SimulatedBroker`, its account kept in memory.

A reconciliation replays a paper session through the trusted backtest host and must fill the
agent's orders exactly as the session's broker did: same fill rules (next bar's open, limits,
stops, slippage against the trader, commission, volume participation, partial fills, margin
refusals), the same order notifications, and the same carry-over of cash, positions and open
orders when a session's runtime restarts. So this IS `SimulatedBroker`, unchanged: only the
account document lives in memory (`AccountMemory`) instead of the documents port, so a replay
touches no store and can hand one run's final account to the next run of the same session.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import backtrader as bt

from shared.ports.broker import BROKER_ACCOUNTS
from shared.ports.documents import DocumentStore
from shared.venues.simulated.execution import SimulatedBroker

REPLAY_ACCOUNT = "replay"
T = TypeVar("T")


class AccountMemory:
    """The one account document a `SimulatedBroker` reads at start and settles after each change.

    A document store of one document: `get`, and `transaction`, which hands the broker's
    handler this object as its transaction (the replay runs on one thread: nothing conflicts).
    """

    def __init__(self, cash: float, positions: dict[str, dict[str, float]] | None = None) -> None:
        self.document: dict[str, Any] = {
            "owner_uid": REPLAY_ACCOUNT, "agent_id": REPLAY_ACCOUNT, "provider": "simulated",
            "cash": float(cash), "positions": copy.deepcopy(positions or {}), "recent_trades": [],
            "trades": 0, "open_orders": [],
        }
        self.writes = 0

    def get(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        """The account document (a copy, as a store would return)."""
        if collection != BROKER_ACCOUNTS or doc_id != REPLAY_ACCOUNT:
            return None
        return copy.deepcopy(self.document)

    def update(self, collection: str, doc_id: str, changes: dict[str, Any]) -> None:
        """Apply the broker's changes (cash, positions, fills, open orders)."""
        if collection == BROKER_ACCOUNTS and doc_id == REPLAY_ACCOUNT:
            self.document.update(copy.deepcopy(changes))
            self.writes += 1

    def transaction(self, fn: Callable[[Any], T], max_attempts: int = 1) -> T:
        """Run `fn` with this memory as its transaction (reads and writes apply at once)."""
        return fn(self)


class ReplayBroker(SimulatedBroker):
    """`SimulatedBroker` over an `AccountMemory`: the paper session's fills, no store."""

    # `slippage`, `commission` and `participation` are SimulatedBroker's params: backtrader
    # takes them from the keyword arguments before `__init__` runs.

    def __init__(self, account: AccountMemory, datas: Sequence[bt.AbstractDataBase] = (), **_params: Any) -> None:
        super().__init__(cast(DocumentStore, account), REPLAY_ACCOUNT, datas=datas)
        self.account = account
