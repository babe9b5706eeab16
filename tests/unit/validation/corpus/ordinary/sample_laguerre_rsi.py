"""Laguerre RSI thresholds (after samples/lrsi)."""
import backtrader as bt


class Agent(bt.Strategy):
    params = dict(gamma=0.5, low=0.2, high=0.8)

    def __init__(self):
        self.lrsi = bt.ind.LaguerreRSI(gamma=self.p.gamma)

    def next(self):
        if not self.position and self.lrsi[0] < self.p.low:
            self.buy()
        elif self.position and self.lrsi[0] > self.p.high:
            self.close()
