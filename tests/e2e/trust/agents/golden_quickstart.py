"""Honest, backtrader's Quickstart idiom: remember the bar of the fill (`len(self)` in
`notify_order`) and exit five bars later."""

import backtrader as bt


class Agent(bt.Strategy):
    """Buy after two down closes; sell five bars after the buy filled."""

    def __init__(self):
        self.order = None
        self.bar_executed = 0

    def notify_order(self, order):
        if order.status in (order.Submitted, order.Accepted):
            return
        if order.status == order.Completed:
            self.bar_executed = len(self)
        self.order = None

    def next(self):
        if self.order:
            return
        if not self.position:
            if self.data.close[0] < self.data.close[-1] < self.data.close[-2]:
                self.order = self.buy(size=10)
        elif len(self) >= self.bar_executed + 5:
            self.order = self.sell(size=10)
