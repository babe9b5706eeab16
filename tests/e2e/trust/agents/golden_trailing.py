"""Honest, trailing stops: a StopTrail by amount and a StopTrailLimit by percent per entry."""

import backtrader as bt


class Agent(bt.Strategy):
    """Enter every 12 bars when flat; protect half with each kind of trailing stop."""

    def __init__(self):
        self.stops = []

    def next(self):
        if not self.position and not any(o.alive() for o in self.stops) and len(self) % 12 == 0:
            self.buy(size=10)
        elif self.position and not any(o.alive() for o in self.stops):
            close = self.data.close[0]
            self.stops = [
                self.sell(exectype=bt.Order.StopTrail, trailamount=close * 0.02, size=5),
                self.sell(
                    exectype=bt.Order.StopTrailLimit,
                    trailpercent=0.03,
                    price=close,
                    plimit=close * 0.99,
                    size=5,
                ),
            ]
