"""The simulated venue's fill rules: at what price and for how much an order fills on one bar.

An order placed on bar t is tried from bar t+1 on: market orders fill at the open, limit orders
when the bar trades through the limit (at the better of open and limit, never slipped past it),
stop orders when the bar touches the stop (at the worse of open and stop). Slippage moves every
other fill against the trader. A fill takes at most `participation` of the bar's volume, and a
buy no more than the cash pays for (commission included).
"""

from __future__ import annotations

import math

import backtrader as bt


def fill_price(order: bt.Order, open_: float, high: float, low: float, slippage: float) -> float | None:
    """The price `order` fills at on a bar, or None when the bar does not reach it."""
    buy, limit = order.isbuy(), order.created.price
    if order.exectype == bt.Order.Market:
        base = open_
    elif order.exectype == bt.Order.Limit:
        if buy and low > limit or not buy and high < limit:
            return None
        return min(open_, limit) if buy else max(open_, limit)  # a limit never slips past itself
    else:  # Stop: triggers when touched, then fills like a market order
        if buy and high < limit or not buy and low > limit:
            return None
        base = max(open_, limit) if buy else min(open_, limit)
    return base * (1 + slippage) if buy else base * (1 - slippage)


def fill_size(order: bt.Order, price: float, volume: float, cash: float, participation: float,
              commission: float) -> float:
    """How much of what `order` has left fills at `price` on a bar of `volume` (0: nothing)."""
    remaining = abs(order.executed.remsize)
    cap = math.floor(volume * participation) if volume > 0 else remaining
    size = min(remaining, cap)
    if order.isbuy():
        cost_per = price * (1 + commission)
        size = min(size, math.floor(cash / cost_per)) if cost_per > 0 else size
    return size
