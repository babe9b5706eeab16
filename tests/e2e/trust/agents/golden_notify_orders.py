"""Honest, orders from notifications: a take-profit placed in `notify_order` once an entry fills."""

import backtrader as bt


class Agent(bt.Strategy):
    """Enter on a 5-bar high; the exit is placed by the fill notification, not by `next`."""

    def __init__(self):
        self.high = bt.indicators.Highest(self.data.close, period=5)
        self.pending = None

    def notify_order(self, order):
        if order.status == order.Completed and order.isbuy():
            self.sell(
                exectype=bt.Order.Limit, price=order.executed.price * 1.02, size=order.executed.size
            )
        if not order.alive():
            self.pending = None

    def next(self):
        if self.pending is None and not self.position and self.data.close[0] >= self.high[0]:
            self.pending = self.buy(size=10)
        elif self.position and len(self) % 9 == 0:
            self.close()
