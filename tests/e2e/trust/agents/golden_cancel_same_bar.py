"""Honest, a cancel in the same bar as the order: change its mind before the bar ends."""

import backtrader as bt


class Agent(bt.Strategy):
    """Buy every 4 bars, and on every other such bar cancel that order right away."""

    def next(self):
        if len(self) % 4 == 0:
            order = self.buy(size=10)
            if len(self) % 8 == 0:
                self.cancel(order)
        elif self.position and len(self) % 4 == 2:
            self.close()
