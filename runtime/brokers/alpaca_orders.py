"""Translation between backtrader orders and Alpaca's: symbols, requests, client ids, fills.

Pure functions and small records, so the mapping rules are tested without any server.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import backtrader as bt
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import (
    LimitOrderRequest,
    MarketOrderRequest,
    OrderRequest,
    StopLimitOrderRequest,
    StopOrderRequest,
)

from shared.alpaca.symbols import canonical_symbol  # noqa: F401 (the broker maps symbols here)
from shared.errors import InvalidInputError

CLIENT_ID_PREFIX = "farm"
OPEN_STATUSES = frozenset(
    {"new", "accepted", "pending_new", "accepted_for_bidding", "partially_filled", "pending_cancel",
     "pending_replace", "held", "calculated"}
)


def is_crypto(symbol: str) -> bool:
    """Whether the canonical `symbol` names a crypto pair."""
    return "/" in symbol


def new_run_tag() -> str:
    """A short tag unique to one broker process, so client ids never repeat across restarts."""
    return uuid.uuid4().hex[:10]


def client_order_id(run_tag: str, order_ref: int) -> str:
    """The client order id of backtrader order `order_ref` in run `run_tag` (stable on retry)."""
    return f"{CLIENT_ID_PREFIX}-{run_tag}-{order_ref}"


def is_ours(client_id: str | None) -> bool:
    """Whether an Alpaca order was placed by a platform runtime (so a restart adopts it)."""
    return bool(client_id) and client_id.startswith(f"{CLIENT_ID_PREFIX}-")  # type: ignore[union-attr]


def order_request(order: bt.Order, symbol: str, client_id: str) -> OrderRequest:
    """The alpaca-py request for a backtrader order; InvalidInputError for unsupported kinds."""
    qty = abs(float(order.size))
    if qty <= 0:
        raise InvalidInputError(f"order size must be non-zero, got {order.size!r}")
    common = {
        "symbol": symbol,
        "qty": qty,
        "side": OrderSide.BUY if order.isbuy() else OrderSide.SELL,
        # Crypto trades around the clock; stock orders last the session, as backtrader's do.
        "time_in_force": TimeInForce.GTC if is_crypto(symbol) else TimeInForce.DAY,
        "client_order_id": client_id,
    }
    kind = order.exectype
    if kind in (None, bt.Order.Market, bt.Order.Close):
        return MarketOrderRequest(**common)
    if kind == bt.Order.Limit:
        return LimitOrderRequest(limit_price=round(order.created.price, 6), **common)
    if kind == bt.Order.Stop:
        return StopOrderRequest(stop_price=round(order.created.price, 6), **common)
    if kind == bt.Order.StopLimit:
        return StopLimitOrderRequest(
            stop_price=round(order.created.price, 6),
            limit_price=round(order.created.pricelimit, 6),
            **common,
        )
    raise InvalidInputError(f"order type {bt.Order.ExecTypes[kind]} is not supported by Alpaca paper")


def exectype_of(alpaca_type: str) -> int:
    """backtrader's exectype for an Alpaca order type (restart re-attachment)."""
    return {
        "market": bt.Order.Market,
        "limit": bt.Order.Limit,
        "stop": bt.Order.Stop,
        "stop_limit": bt.Order.StopLimit,
    }.get(alpaca_type, bt.Order.Market)


@dataclass
class Tracked:
    """What the broker knows of one live order: Alpaca ids and how much it already executed."""

    order: bt.Order
    symbol: str
    client_id: str
    alpaca_id: str | None = None
    filled_qty: float = 0.0  # cumulative quantity already executed into `order`
    filled_value: float = 0.0  # sum of qty * price of those executions

    def delta(self, cum_qty: float, cum_avg: float) -> tuple[float, float] | None:
        """The new execution (qty, price) implied by Alpaca's cumulative fill, or None.

        Updates arrive from the stream and from polling, possibly both, possibly out of order:
        working from the cumulative figures makes every update idempotent.
        """
        qty = cum_qty - self.filled_qty
        if qty <= 1e-12:
            return None
        price = (cum_avg * cum_qty - self.filled_value) / qty
        self.filled_qty, self.filled_value = cum_qty, cum_avg * cum_qty
        return qty, price
