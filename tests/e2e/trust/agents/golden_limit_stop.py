"""Honest, limit and stop orders: buy on a dip limit valid three days, protect with stops."""

import datetime

import backtrader as bt


class Agent(bt.Strategy):
    """Limit entries below the close; a stop and a stop-limit exit once filled."""

    def __init__(self):
        self.entry = None
        self.exits = []

    def notify_order(self, order):
        if order is self.entry and not order.alive():
            self.entry = None

    def next(self):
        data = self.data
        held = self.position.size
        if not held and self.entry is None and len(self) % 3 == 0:
            self.entry = self.buy(
                exectype=bt.Order.Limit,
                price=data.close[0] * 0.99,
                size=10,
                valid=datetime.timedelta(days=3),
            )
        elif held and not any(o.alive() for o in self.exits):
            self.exits = [
                self.sell(exectype=bt.Order.Stop, price=data.close[0] * 0.97, size=5),
                self.sell(
                    exectype=bt.Order.StopLimit,
                    price=data.close[0] * 0.98,
                    plimit=data.close[0] * 0.975,
                    size=5,
                ),
            ]
        if held and len(self) % 17 == 0:
            for order in self.exits:
                self.cancel(order)
            self.close()
