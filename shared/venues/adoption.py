"""Rebuild an open order of an earlier run as a backtrader order, for either broker's restart."""

from __future__ import annotations

import backtrader as bt


def adopted_order(side: str, data: bt.AbstractDataBase, size: float, price: float | None, exectype: int) -> bt.Order:
    """An order of an earlier run for `data`, sized to what remains, owned by no strategy yet.

    Built "simulated" because the constructor would otherwise read a bar the feed does not have
    yet; made real right after, because backtrader drops a simulated order's notifications
    instead of passing them to the strategy (cerebro gives an ownerless order to the first one).
    """
    kind = bt.BuyOrder if side == "buy" else bt.SellOrder
    order = kind(owner=None, data=data, size=size, price=price, exectype=exectype, simulated=True)
    order.p.simulated = False
    return order
