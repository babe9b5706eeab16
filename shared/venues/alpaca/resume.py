"""What a (re)started AlpacaBroker reads back from its Alpaca account: positions and its open orders.

Everything is read through the Broker API's per-account endpoints, so a runtime sees only the
account its session trades; of that account's open orders it adopts only its own session's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import cast

import backtrader as bt
from alpaca.broker.client import BrokerClient
from alpaca.broker.models import Order
from alpaca.trading.enums import OrderSide, QueryOrderStatus
from alpaca.trading.models import Position
from alpaca.trading.requests import GetOrdersRequest

from shared.venues.adoption import adopted_order
from shared.venues.alpaca.config import canonical_symbol
from shared.venues.alpaca.orders import Tracked, exectype_of, is_sessions

log = logging.getLogger(__name__)
Feeds = Mapping[str, bt.AbstractDataBase]


def open_positions(client: BrokerClient, account_id: str, datas: Feeds) -> dict[bt.AbstractDataBase, bt.Position]:
    """The account's positions, keyed by the feed of their (canonical) symbol."""
    positions = {}
    for held in cast(list[Position], client.get_all_positions_for_account(account_id)):
        symbol = canonical_symbol(held.symbol, str(held.asset_class.value) if held.asset_class else None)
        data = datas.get(symbol)
        if data is None:
            log.warning("position in %s has no data feed in this runtime; it is not tracked", symbol)
            continue
        size = float(held.qty) * (1 if str(held.side.value) == "long" else -1)
        positions[data] = bt.Position(size, float(held.avg_entry_price))
    return positions


def adopt_open_orders(
    client: BrokerClient, account_id: str, session_id: str, datas: Feeds,
    comminfo: Callable[[bt.AbstractDataBase], bt.CommInfoBase],
) -> list[Tracked]:
    """Backtrader orders for the session's open orders in its account, sized to what remains."""
    adopted = []
    request = GetOrdersRequest(status=QueryOrderStatus.OPEN, limit=500)
    for placed in cast(list[Order], client.get_orders_for_account(account_id, request)):
        if not is_sessions(placed.client_order_id, session_id):
            continue  # placed by hand, or by an earlier session of the agent: not this runtime's
        asset_class = str(placed.asset_class.value) if placed.asset_class else None
        symbol = canonical_symbol(placed.symbol or "", asset_class)
        data = datas.get(symbol)
        if data is None:
            log.warning("open order %s for %s has no data feed; left alone", placed.client_order_id, symbol)
            continue
        filled = float(placed.filled_qty or 0.0)
        price = placed.limit_price or placed.stop_price
        side = "sell" if placed.side == OrderSide.SELL else "buy"
        order = adopted_order(side, data, float(placed.qty or 0.0) - filled,
                              float(price) if price else None,
                              exectype_of(str(placed.type.value if placed.type else "market")))
        order.addcomminfo(comminfo(data))
        tracked = Tracked(order, symbol, placed.client_order_id, str(placed.id))
        # What filled before the restart is already in Alpaca's positions: count from there.
        tracked.filled_qty = filled
        tracked.filled_value = filled * float(placed.filled_avg_price or 0.0)
        adopted.append(tracked)
    return adopted
