"""What a (re)started AlpacaBroker reads back from Alpaca: positions and its open orders."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import backtrader as bt
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.requests import GetOrdersRequest

from runtime.brokers.adoption import adopted_order
from runtime.brokers.alpaca_orders import Tracked, canonical_symbol, exectype_of, is_ours

log = logging.getLogger(__name__)
Feeds = Mapping[str, bt.AbstractDataBase]


def open_positions(client: TradingClient, datas: Feeds) -> dict[bt.AbstractDataBase, bt.Position]:
    """Alpaca's positions, keyed by the feed of their (canonical) symbol."""
    positions = {}
    for held in client.get_all_positions():
        symbol = canonical_symbol(held.symbol, str(held.asset_class.value) if held.asset_class else None)
        data = datas.get(symbol)
        if data is None:
            log.warning("position in %s has no data feed in this runtime; it is not tracked", symbol)
            continue
        size = float(held.qty) * (1 if str(held.side.value) == "long" else -1)
        positions[data] = bt.Position(size, float(held.avg_entry_price))
    return positions


def adopt_open_orders(
    client: TradingClient, datas: Feeds, comminfo: Callable[[bt.AbstractDataBase], bt.CommInfoBase]
) -> list[Tracked]:
    """Backtrader orders for the platform's open Alpaca orders, sized to what remains."""
    adopted = []
    for placed in client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN, limit=500)):
        if not is_ours(placed.client_order_id):
            continue
        asset_class = str(placed.asset_class.value) if placed.asset_class else None
        symbol = canonical_symbol(placed.symbol or "", asset_class)
        data = datas.get(symbol)
        if data is None:
            log.warning("open order %s for %s has no data feed; left alone", placed.client_order_id, symbol)
            continue
        filled = float(placed.filled_qty or 0.0)
        price = placed.limit_price or placed.stop_price
        order = adopted_order(str(placed.side.value), data, float(placed.qty or 0.0) - filled,
                              float(price) if price else None,
                              exectype_of(str(placed.type.value if placed.type else "market")))
        order.addcomminfo(comminfo(data))
        tracked = Tracked(order, symbol, placed.client_order_id, str(placed.id))
        # What filled before the restart is already in Alpaca's positions: count from there.
        tracked.filled_qty = filled
        tracked.filled_value = filled * float(placed.filled_avg_price or 0.0)
        adopted.append(tracked)
    return adopted
