"""Honest, cancels: limit orders far from the market, cancelled a few bars later."""

import backtrader as bt


class Agent(bt.Strategy):
    """Place two resting limits every 6 bars; cancel the ones still open after 3 bars."""

    def __init__(self):
        self.resting = []

    def next(self):
        close = self.data.close[0]
        if len(self) % 6 == 0:
            self.resting.append(
                (len(self), self.buy(exectype=bt.Order.Limit, price=close * 0.985, size=5))
            )
            self.resting.append(
                (len(self), self.sell(exectype=bt.Order.Limit, price=close * 1.015, size=5))
            )
        for placed, order in list(self.resting):
            if len(self) - placed >= 3:
                if order.alive():
                    self.cancel(order)
                self.resting.remove((placed, order))
