"""Translation between backtrader orders and Alpaca's: requests, client ids, fills.

Pure functions and small records, so the mapping rules are tested without any server. A client
order id names the paper session that placed it (`farm-<session_id>-<run_tag>-<ref>`), so a
restarted runtime adopts only its own session's open orders, never another agent's.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import backtrader as bt
import requests
from alpaca.broker.client import BrokerClient
from alpaca.broker.models import Order as AlpacaOrder
from alpaca.broker.requests import (
    LimitOrderRequest,
    MarketOrderRequest,
    OrderRequest,
    StopLimitOrderRequest,
    StopOrderRequest,
)
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import OrderSide, TimeInForce

from shared.errors import InvalidInputError

log = logging.getLogger(__name__)
CLIENT_ID_PREFIX = "farm"
SUBMIT_ATTEMPTS = 3
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


def client_order_id(session_id: str, run_tag: str, order_ref: int) -> str:
    """The client order id of backtrader order `order_ref` of `session_id`'s run `run_tag` (stable on retry)."""
    return f"{session_prefix(session_id)}{run_tag}-{order_ref}"


def session_prefix(session_id: str) -> str:
    """What every client order id of `session_id` starts with."""
    return f"{CLIENT_ID_PREFIX}-{session_id}-"


def is_sessions(client_id: str | None, session_id: str) -> bool:
    """Whether an Alpaca order was placed by a runtime of `session_id` (so its restart adopts it)."""
    return client_id is not None and client_id.startswith(session_prefix(session_id))


def order_request(order: bt.Order, symbol: str, client_id: str) -> OrderRequest:
    """The alpaca-py request for a backtrader order; InvalidInputError for unsupported kinds."""
    qty = abs(float(order.size))
    if qty <= 0:
        raise InvalidInputError(f"order size must be non-zero, got {order.size!r}")
    common: dict[str, Any] = {
        "symbol": symbol,
        "qty": qty,
        "side": OrderSide.BUY if order.isbuy() else OrderSide.SELL,
        # Crypto trades around the clock; stock orders last the session, as backtrader's do.
        "time_in_force": TimeInForce.GTC if is_crypto(symbol) else TimeInForce.DAY,
        "client_order_id": client_id,
    }
    kind = order.exectype
    # alpaca-py types `submit_order_for_account` with its generic OrderRequest; each kind's request
    # is what it sends (a sibling class, hence the cast).
    if kind in (None, bt.Order.Market, bt.Order.Close):
        return cast(OrderRequest, MarketOrderRequest(**common))
    if kind == bt.Order.Limit:
        return cast(OrderRequest, LimitOrderRequest(limit_price=round(order.created.price, 6), **common))
    if kind == bt.Order.Stop:
        return cast(OrderRequest, StopOrderRequest(stop_price=round(order.created.price, 6), **common))
    if kind == bt.Order.StopLimit:
        return cast(OrderRequest, StopLimitOrderRequest(
            stop_price=round(order.created.price, 6), limit_price=round(order.created.pricelimit, 6), **common))
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


def place_order(client: BrokerClient, account_id: str, tracked: Tracked) -> AlpacaOrder:
    """Submit `tracked`'s order to the account, retrying lost answers without placing it twice."""
    request = order_request(tracked.order, tracked.symbol, tracked.client_id)
    for attempt in range(1, SUBMIT_ATTEMPTS + 1):
        try:
            return cast(AlpacaOrder, client.submit_order_for_account(account_id, request))
        except requests.RequestException as exc:
            # The order may have reached Alpaca before the answer was lost: ask by client id.
            log.warning("submitting %s failed (attempt %d): %s", tracked.client_id, attempt, exc)
            found = find_by_client_id(client, account_id, tracked.client_id)
            if found is not None:
                return found
            if attempt == SUBMIT_ATTEMPTS:
                raise APIError(f"order could not be placed: {exc}") from exc
            time.sleep(0.2 * attempt)
        except APIError as exc:
            if exc.status_code == 422 and "client_order_id" in str(exc):
                found = find_by_client_id(client, account_id, tracked.client_id)
                if found is not None:
                    return found  # an earlier attempt got through: adopt it, place nothing
            raise
    raise AssertionError("unreachable")


def find_by_client_id(client: BrokerClient, account_id: str, client_id: str) -> AlpacaOrder | None:
    """The account's order with `client_id`, or None (not there, or Alpaca unreachable)."""
    try:
        return cast(AlpacaOrder, client.get_order_for_account_by_client_id(account_id, client_id))
    except (APIError, requests.RequestException):
        return None


def execute_into(order: bt.Order, position: bt.Position, comminfo: bt.CommInfoBase, size: float, price: float,
                 when: float) -> float:
    """Execute a fill of `size` (signed) at `price` into backtrader's `order` and `position`; its commission."""
    pprice_orig = position.price
    psize, pprice, opened, closed = position.update(size, price)
    closedcomm, openedcomm = comminfo.getcommission(closed, price), comminfo.getcommission(opened, price)
    order.execute(when, size, price, closed, comminfo.getoperationcost(closed, pprice_orig), closedcomm,
                  opened, comminfo.getoperationcost(opened, price), openedcomm, comminfo.getvaluesize(size, price),
                  comminfo.profitandloss(-closed, pprice_orig, price), psize, pprice)
    return float(closedcomm + openedcomm)


def mark_price(data: bt.AbstractDataBase, pos: bt.Position) -> float:
    """A position's price for valuation: its feed's latest close, its average price before a bar."""
    return float(data.close[0]) if len(data) else pos.price


def fill_time(data: bt.AbstractDataBase) -> float:
    """backtrader's time of a fill: the feed's current bar, now before its first one."""
    return float(data.datetime[0]) if len(data) else bt.date2num(datetime.now(UTC).replace(tzinfo=None))
