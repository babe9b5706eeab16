"""The state behind the fake Alpaca: accounts, orders and positions in Alpaca's JSON shapes.

Orders, accounts and positions are kept as the dicts Alpaca sends (strings for decimals,
RFC 3339 timestamps), so alpaca-py's own models parse them. Crypto positions are keyed the way
Alpaca reports them (`BTCUSD`, no slash) while orders keep the symbol as submitted (`BTC/USD`):
the mismatch the platform must map.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

OPEN_STATUSES = frozenset({"new", "accepted", "pending_new", "partially_filled", "pending_cancel"})
Event = dict[str, Any]


def now() -> str:
    """The current time as Alpaca writes it."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def num(value: float) -> str:
    """A decimal as Alpaca writes it (a string)."""
    return repr(float(value))


class AlpacaApiError(Exception):
    """An error answer: HTTP `status` with Alpaca's `{"code", "message"}` body."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Account:
    """One account: cash, positions (symbol -> [qty, avg price]) and its orders."""

    id: str
    number: str
    cash: float = 0.0
    positions: dict[str, list[float]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    marks: dict[str, float] = field(default_factory=dict)  # last fill price per symbol
    created_at: str = field(default_factory=now)
    ach: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: list[dict[str, Any]] = field(default_factory=list)

    def trade_account(self) -> dict[str, Any]:
        """GET /v2/account (and the Broker API's trading account view)."""
        long_value = sum(q * self.marks.get(s, p) for s, (q, p) in self.positions.items())
        equity = self.cash + long_value
        return {
            "id": self.id, "account_number": self.number, "status": "ACTIVE",
            "crypto_status": "ACTIVE", "currency": "USD", "cash": num(self.cash),
            "buying_power": num(max(self.cash, 0.0)), "portfolio_value": num(equity),
            "equity": num(equity), "last_equity": num(equity), "long_market_value": num(long_value),
            "short_market_value": "0", "pattern_day_trader": False, "trading_blocked": False,
            "transfers_blocked": False, "account_blocked": False, "created_at": self.created_at,
            "trade_suspended_by_user": False, "multiplier": "1", "shorting_enabled": False,
            "initial_margin": "0", "maintenance_margin": "0", "daytrade_count": 0,
            "cash_withdrawable": num(self.cash), "cash_transferable": num(self.cash),
            "previous_close": self.created_at, "last_long_market_value": num(long_value),
            "last_short_market_value": "0", "last_cash": num(self.cash), "last_initial_margin": "0",
            "last_regt_buying_power": num(self.cash), "last_buying_power": num(self.cash),
            "clearing_broker": "ALPACA_APCA",
        }

    def position_list(self) -> list[dict[str, Any]]:
        """GET /v2/positions: one entry per non-zero position, crypto without the slash."""
        out = []
        for symbol, (qty, avg) in sorted(self.positions.items()):
            mark = self.marks.get(symbol, avg)
            crypto = "/" in symbol
            out.append({
                "asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, symbol)),
                "symbol": symbol.replace("/", ""),
                "exchange": "CRYPTO" if crypto else "NASDAQ",
                "asset_class": "crypto" if crypto else "us_equity",
                "avg_entry_price": num(avg), "qty": num(qty), "qty_available": num(qty),
                "side": "long" if qty >= 0 else "short", "market_value": num(qty * mark),
                "cost_basis": num(qty * avg), "unrealized_pl": num(qty * (mark - avg)),
                "current_price": num(mark), "lastday_price": num(mark), "change_today": "0",
            })
        return out


@dataclass
class Step:
    """One scripted thing that happens to an order after it is accepted."""

    kind: str  # "partial_fill" | "fill" | "cancel" | "reject"
    qty: float = 0.0
    price: float = 0.0
    delay_s: float = 0.0


class Ledger:
    """Accounts and orders, thread-safe; every change is announced to `emit` as an event."""

    def __init__(self, emit: Callable[[str, Event], None]) -> None:
        self._emit = emit  # (account_id, trade_updates data) -> delivered to the stream
        self.lock = threading.RLock()
        self.accounts: dict[str, Account] = {}
        self.scripts: dict[str, list[Step]] = {}  # symbol -> steps for its next order
        self.market_prices: dict[str, float] = {}  # symbol -> where an unscripted market order fills

    def open_account(self, cash: float = 0.0, account_id: str | None = None) -> Account:
        """Create an account (with `cash`) and return it."""
        with self.lock:
            account = Account(account_id or str(uuid.uuid4()), f"PA{len(self.accounts) + 1:08d}", cash)
            self.accounts[account.id] = account
            return account

    def account(self, account_id: str) -> Account:
        """The account; 404 otherwise."""
        with self.lock:
            if account_id not in self.accounts:
                raise AlpacaApiError(404, 40410000, "account not found")
            return self.accounts[account_id]

    def submit(self, account_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[Step]]:
        """Accept an order request (422 on a reused client_order_id); return it and its script."""
        with self.lock:
            account = self.account(account_id)
            coid = body.get("client_order_id") or str(uuid.uuid4())
            if any(o["client_order_id"] == coid for o in account.orders.values()):
                raise AlpacaApiError(422, 40010001, "client_order_id must be unique")
            for key in ("symbol", "side", "type", "time_in_force"):
                if not body.get(key):
                    raise AlpacaApiError(422, 40010001, f"{key} is required")
            at = now()
            order = {
                "id": str(uuid.uuid4()), "client_order_id": coid, "created_at": at,
                "updated_at": at, "submitted_at": at, "filled_at": None, "expired_at": None,
                "canceled_at": None, "failed_at": None, "replaced_at": None, "replaced_by": None,
                "replaces": None, "asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, body["symbol"])),
                "symbol": body["symbol"],
                "asset_class": "crypto" if "/" in body["symbol"] else "us_equity",
                "notional": None, "qty": str(body.get("qty")), "filled_qty": "0",
                "filled_avg_price": None, "order_class": "simple", "order_type": body["type"],
                "type": body["type"], "side": body["side"], "time_in_force": body["time_in_force"],
                "limit_price": body.get("limit_price"), "stop_price": body.get("stop_price"),
                "status": "new", "extended_hours": bool(body.get("extended_hours", False)),
                "legs": None, "trail_percent": None, "trail_price": None, "hwm": None,
            }
            account.orders[order["id"]] = order
            steps = self.scripts.pop(body["symbol"], [])
            if not steps and body["type"] == "market" and body["symbol"] in self.market_prices:
                steps = [Step("fill", price=self.market_prices[body["symbol"]])]
            self._emit(account_id, {"event": "new", "order": dict(order), "timestamp": at})
            return dict(order), steps

    def find(self, account_id: str, order_id: str) -> dict[str, Any]:
        """The order by Alpaca id; 404 otherwise."""
        with self.lock:
            order = self.account(account_id).orders.get(order_id)
            if order is None:
                raise AlpacaApiError(404, 40410000, "order not found")
            return dict(order)

    def find_by_client_id(self, account_id: str, client_order_id: str) -> dict[str, Any]:
        """The order by client order id; 404 otherwise."""
        with self.lock:
            for order in self.account(account_id).orders.values():
                if order["client_order_id"] == client_order_id:
                    return dict(order)
            raise AlpacaApiError(404, 40410000, "order not found")

    def list_orders(self, account_id: str, status: str = "open") -> list[dict[str, Any]]:
        """Orders filtered as GET /v2/orders?status=open|closed|all."""
        with self.lock:
            orders = list(self.account(account_id).orders.values())
        if status == "open":
            orders = [o for o in orders if o["status"] in OPEN_STATUSES]
        elif status == "closed":
            orders = [o for o in orders if o["status"] not in OPEN_STATUSES]
        return [dict(o) for o in orders]

    def apply(self, account_id: str, order_id: str, step: Step) -> None:
        """Make `step` happen to the order (a no-op once the order is closed)."""
        with self.lock:
            account = self.account(account_id)
            order = account.orders[order_id]
            if order["status"] not in OPEN_STATUSES:
                return
            at = now()
            order["updated_at"] = at
            if step.kind in ("partial_fill", "fill"):
                self._fill(account, order, step, at)
                return
            status = {"cancel": "canceled", "reject": "rejected"}[step.kind]
            order["status"] = status
            order["canceled_at" if status == "canceled" else "failed_at"] = at
            self._emit(account_id, {"event": status, "order": dict(order), "timestamp": at})

    def _fill(self, account: Account, order: dict[str, Any], step: Step, at: str) -> None:
        total, done = float(order["qty"]), float(order["filled_qty"])
        qty = total - done if step.kind == "fill" else min(step.qty, total - done)
        avg = float(order["filled_avg_price"] or 0.0)
        filled = done + qty
        order["filled_avg_price"] = num((avg * done + step.price * qty) / filled)
        order["filled_qty"] = num(filled)
        order["status"] = "filled" if filled >= total else "partially_filled"
        if order["status"] == "filled":
            order["filled_at"] = at
        signed = qty if order["side"] == "buy" else -qty
        account.cash -= signed * step.price
        held, held_avg = account.positions.get(order["symbol"], [0.0, 0.0])
        new_qty = held + signed
        if new_qty == 0:
            account.positions.pop(order["symbol"], None)
        else:
            opening = signed if abs(new_qty) > abs(held) else 0.0
            new_avg = (held * held_avg + opening * step.price) / (held + opening) if opening else held_avg
            account.positions[order["symbol"]] = [new_qty, new_avg]
        account.marks[order["symbol"]] = step.price
        event = "fill" if order["status"] == "filled" else "partial_fill"
        self._emit(account.id, {
            "event": event, "execution_id": str(uuid.uuid4()), "order": dict(order),
            "timestamp": at, "position_qty": num(new_qty), "price": num(step.price), "qty": num(qty),
        })
