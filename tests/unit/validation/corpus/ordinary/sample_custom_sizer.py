"""A long-only sizer of its own, installed from the strategy (after samples/sizertest)."""
import backtrader as bt


class LongOnly(bt.Sizer):
    params = (("stake", 1),)

    def _getsizing(self, comminfo, cash, data, isbuy):
        if isbuy:
            return self.p.stake
        position = self.broker.getposition(data)
        return position.size if position.size else 0


class Agent(bt.Strategy):
    params = (("period", 15), ("stake", 5))

    def __init__(self):
        self.setsizer(LongOnly(stake=self.p.stake))
        self.signal = bt.ind.CrossOver(self.data.close, bt.ind.SMA(period=self.p.period))

    def next(self):
        if self.signal > 0:
            self.buy()
        elif self.signal < 0:
            self.sell()
