"""Broker port: paper-trading accounts (SPEC §4) and what a runtime's broker adds to backtrader's.

Two halves, both implemented by the Alpaca adapter and by the simulated one:

- `BrokerAccounts`: the account operations the functions use (create, fund, read), one adapter
  per venue: `shared.venues.simulated.accounts` (documents port, the embedded default) and
  `shared.venues.alpaca.accounts` (Alpaca's Broker API sandbox, GCP); `shared.venues` chooses.
- `TradingBroker`: what a runtime needs from its `bt.BrokerBase` beyond backtrader's own
  methods (submit/cancel/getcash/getvalue/getposition): resume from the account, report
  state for the session document, and shut down cleanly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from shared.domain.money import DEFAULT_CASH

DEFAULT_FUNDING = DEFAULT_CASH  # a first funding starts an account where a backtest starts
AccountStatus = Literal["created", "funded", "closed"]
BROKER_ACCOUNTS = "broker_accounts"  # documents collection of every venue's accounts


@dataclass(frozen=True)
class Holding:
    """One open position: signed size (negative = short) at its average price."""

    symbol: str
    size: float
    price: float


@dataclass(frozen=True)
class TradeFill:
    """One (partial) fill, newest last in `BrokerAccount.recent_trades`."""

    symbol: str
    side: Literal["buy", "sell"]
    size: float
    price: float
    commission: float
    at: str  # ISO-8601 UTC
    order_id: str


@dataclass(frozen=True)
class BrokerAccount:
    """A paper account as the API shows it (never any credential)."""

    account_id: str
    owner_uid: str
    agent_id: str
    provider: Literal["simulated", "alpaca"]
    status: AccountStatus
    cash: float
    funded_total: float
    positions: tuple[Holding, ...] = ()
    recent_trades: tuple[TradeFill, ...] = ()
    trades: int = 0

    @property
    def funded(self) -> bool:
        """Whether money was ever put in: paper trading needs a funded account."""
        return self.funded_total > 0

    def to_json(self) -> dict[str, Any]:
        """The account as a JSON-able dict for HTTP answers."""
        return {
            "account_id": self.account_id,
            "agent_id": self.agent_id,
            "provider": self.provider,
            "status": self.status,
            "cash": self.cash,
            "funded_total": self.funded_total,
            "funded": self.funded,
            "positions": [vars(h) for h in self.positions],
            "recent_trades": [vars(t) for t in self.recent_trades],
            "trades": self.trades,
        }


class BrokerAccounts(Protocol):
    """Create, fund and read the paper account of an agent."""

    def create_account(self, owner_uid: str, agent_id: str) -> BrokerAccount:
        """Create the agent's account, or return the existing one (one account per agent)."""
        ...

    def fund(
        self, owner_uid: str, account_id: str, amount: float = DEFAULT_FUNDING, *, idempotency_key: str
    ) -> BrokerAccount:
        """Add `amount` cash once per `idempotency_key`; NotFoundError when not the caller's."""
        ...

    def get_account(self, owner_uid: str, account_id: str) -> BrokerAccount:
        """The account; NotFoundError when missing or someone else's."""
        ...

    def account_for_agent(self, owner_uid: str, agent_id: str) -> BrokerAccount | None:
        """The agent's account, or None when it has none."""
        ...


@dataclass(frozen=True)
class BrokerState:
    """What a runtime reports about its broker: cash, value, positions, latest fills."""

    cash: float
    value: float
    positions: tuple[Holding, ...] = ()
    recent_trades: tuple[TradeFill, ...] = ()
    trades: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)


class TradingBroker(Protocol):
    """The runtime-facing extras of a broker (it is also a `bt.BrokerBase`)."""

    def state(self) -> BrokerState:
        """Current cash, value (marked at the latest bars), positions and recent fills."""
        ...

    def shutdown(self) -> None:
        """Persist or sync what must survive a restart and release connections; idempotent."""
        ...
