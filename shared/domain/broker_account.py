"""The broker-account aggregate: an agent's paper account, its fundings and what trading left in it.

One document per account (`broker_accounts/<venue>-<agent_id>`), and one writer per field:

- funding (`fundings`, `funded_total`, `status`) is written only by `fund` / `record_transfer`,
  called by the venue's accounts adapter;
- trading (`positions`, `recent_trades`, `trades`, `open_orders`) only by `settle_trading`,
  called by the simulated venue's broker;
- `cash` is moved by both, but only as an increment applied to the value read in the same
  transaction, so a funding made while a session trades is never overwritten by the broker's
  next write (and a fill never by a funding).

On Alpaca the balance and positions live at Alpaca; the document keeps the platform's record
(owner, agent, the Alpaca account id, fundings by idempotency key).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from shared.domain.aggregate import OwnedRepository
from shared.domain.money import DEFAULT_CASH
from shared.domain.stored_fields import NOT_STORED, join_document, split_document
from shared.errors import InvalidInputError, NotFoundError, TransientError
from shared.ports.broker import BROKER_ACCOUNTS, Holding, TradeFill
from shared.ports.broker import BrokerAccount as AccountView

Provider = Literal["simulated", "alpaca"]
RECENT_TRADES = 20  # fills kept on the document, newest last
MAX_FUNDING = 1_000_000.0
MAX_KEY_LENGTH = 200
PENDING = "pending"  # a funding key whose Alpaca transfer is under way


def account_id_for(provider: Provider, agent_id: str) -> str:
    """The platform's id of an agent's account at `provider` (one account per agent and venue)."""
    return f"{'sim' if provider == 'simulated' else provider}-{agent_id}"


def check_funding(amount: Any, key: Any) -> tuple[float, str]:
    """(amount, idempotency key) of a funding request; InvalidInputError when either is bad."""
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not math.isfinite(amount):
        raise InvalidInputError("amount must be a number")
    if not 0 < amount <= MAX_FUNDING:
        raise InvalidInputError(f"amount must be > 0 and <= {MAX_FUNDING:,.0f}, got {amount}")
    if not isinstance(key, str) or not key.strip():
        raise InvalidInputError("an Idempotency-Key header (or idempotency_key field) is required")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInputError(f"the idempotency key is longer than {MAX_KEY_LENGTH} characters")
    return float(amount), key.strip()


@dataclass(eq=False, kw_only=True)
class BrokerAccount:
    """An account document as a typed object; build it with `opened` or `from_document`."""

    account_id: str
    owner_uid: str
    agent_id: str
    provider: Provider
    status: str = "created"  # created -> funded
    cash: float = 0.0
    funded_total: float = 0.0
    fundings: dict[str, Any] = field(default_factory=dict)  # idempotency key -> amount / transfer id
    positions: dict[str, dict[str, float]] = field(default_factory=dict)  # symbol -> {size, price}
    recent_trades: list[dict[str, Any]] = field(default_factory=list)
    trades: int = 0
    open_orders: list[dict[str, Any]] = field(default_factory=list)
    created_at: str | None = None
    updated_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    absent: frozenset[str] = field(default=frozenset(), repr=False)

    _NOT_STORED: ClassVar[frozenset[str]] = NOT_STORED | {"account_id"}

    @classmethod
    def opened(cls, provider: Provider, *, owner_uid: str, agent_id: str, at: str) -> BrokerAccount:
        """A new, empty account of `agent_id` at `provider`."""
        account = cls(account_id=account_id_for(provider, agent_id), owner_uid=owner_uid, agent_id=agent_id,
                      provider=provider, created_at=at, updated_at=at)
        if provider == "alpaca":  # its balance lives at Alpaca; the id arrives once Alpaca opened it
            account.extra["alpaca_account_id"] = None
            account.absent = frozenset({"positions", "recent_trades", "trades", "open_orders"})
        else:
            account.absent = frozenset({"open_orders"})
        return account

    @classmethod
    def from_document(cls, account_id: str, document: Mapping[str, Any]) -> BrokerAccount:
        """The account stored under `account_id`; InvalidInputError when malformed."""
        values, extra, absent = split_document(cls, document, not_stored=cls._NOT_STORED)
        if not isinstance(document.get("owner_uid"), str) or document.get("provider") not in ("simulated", "alpaca"):
            raise InvalidInputError(f"broker account {account_id} document is malformed")
        values["cash"] = float(values.get("cash") or 0.0)
        values["funded_total"] = float(values.get("funded_total") or 0.0)
        return cls(account_id=account_id, **values, extra=extra, absent=absent)

    @property
    def id(self) -> str:
        return self.account_id

    @property
    def alpaca_account_id(self) -> str | None:
        """Alpaca's id of the account (None while being opened, and for simulated accounts)."""
        return self.extra.get("alpaca_account_id")

    def to_document(self) -> dict[str, Any]:
        return join_document(self, not_stored=self._NOT_STORED)

    def visible_to(self, uid: str) -> bool:
        """Only its owner sees it."""
        return self.owner_uid == uid

    # --- funding (the accounts adapter) --------------------------------------------------------

    def fund(self, amount: float = DEFAULT_CASH, *, key: str, at: str) -> bool:
        """Add `amount` once per idempotency `key` (instant, simulated); False when already done."""
        amount, key = check_funding(amount, key)
        if key in self.fundings:
            return False
        self.cash += amount
        self._funded(key, amount, amount, at)
        return True

    def reserve_funding(self, key: str, *, at: str) -> bool:
        """Mark `key` as under way before Alpaca moves money; False when already reserved or done."""
        if key in self.fundings:
            return False
        if not self.alpaca_account_id:
            raise TransientError("the account is still being opened; retry shortly")
        self.fundings = {**self.fundings, key: PENDING}
        self.updated_at = at
        return True

    def release_funding(self, key: str) -> None:
        """Forget a reservation whose transfer failed, so a retry with the same key may fund."""
        self.fundings = {k: v for k, v in self.fundings.items() if k != key}

    def record_transfer(self, key: str, amount: float, *, transfer_id: str, relationship_id: str, at: str) -> None:
        """Record a completed Alpaca transfer (the cash itself is Alpaca's)."""
        self.extra["ach_relationship_id"] = relationship_id
        self._funded(key, transfer_id, amount, at)

    def attach_alpaca(self, alpaca_account_id: str, *, at: str) -> None:
        """Record Alpaca's id of the account once Alpaca opened it."""
        self.extra["alpaca_account_id"] = alpaca_account_id
        self.updated_at = at

    def _funded(self, key: str, record: Any, amount: float, at: str) -> None:
        self.fundings = {**self.fundings, key: record}
        self.funded_total += amount
        self.status = "funded"
        self.updated_at = at

    # --- trading (the simulated broker) --------------------------------------------------------

    def settle_trading(self, cash_delta: float, *, positions: Mapping[str, Mapping[str, float]],
                       recent_trades: list[dict[str, Any]], trades: int, open_orders: list[dict[str, Any]]) -> None:
        """Apply what a broker did since its last settlement: cash moved by fills, and its book."""
        self.cash += cash_delta
        self.positions = {symbol: dict(p) for symbol, p in positions.items()}
        self.recent_trades = list(recent_trades)[-RECENT_TRADES:]
        self.trades = int(trades)
        self.open_orders = list(open_orders)

    # --- views -----------------------------------------------------------------------------------

    def view(self, *, cash: float | None = None, positions: tuple[Holding, ...] | None = None) -> AccountView:
        """The account as the API shows it; Alpaca's `cash` and `positions` replace the stored ones."""
        held = positions if positions is not None else tuple(
            Holding(symbol, float(p["size"]), float(p["price"]))
            for symbol, p in sorted(self.positions.items()) if p.get("size")
        )
        return AccountView(
            account_id=self.account_id, owner_uid=self.owner_uid, agent_id=self.agent_id, provider=self.provider,
            status=self.status, cash=self.cash if cash is None else cash,  # type: ignore[arg-type]
            funded_total=self.funded_total, positions=held,
            recent_trades=tuple(TradeFill(**t) for t in self.recent_trades), trades=self.trades,
        )


class BrokerAccountRepository(OwnedRepository[BrokerAccount]):
    """Broker accounts inside one transaction."""

    collection = BROKER_ACCOUNTS
    kind = "broker account"

    def load(self, doc_id: str, document: dict[str, Any]) -> BrokerAccount:
        return BrokerAccount.from_document(doc_id, document)

    def of_provider(self, doc_id: str, uid: str, provider: Provider) -> BrokerAccount:
        """The caller's account at `provider`; NotFoundError, as for a missing one, otherwise."""
        account = self.owned(doc_id, uid)
        if account.provider != provider:
            raise NotFoundError(f"{self.kind} {doc_id} not found")
        return account
