import statistics

import backtrader as bt


class Agent(bt.Strategy):
    params = (("take", 0.04), ("stop", 0.02))

    def __init__(self):
        self.highest = bt.indicators.Highest(self.data.high, period=20)
        self.dynamic = {}
        for n in (5, 10):
            setattr(self, f"sma_{n}", bt.indicators.SMA(self.data, period=n))

    def next(self):
        fast = getattr(self, "sma_5")
        if len(self) > 30:
            recent = [self.data.close[-i] for i in range(10)]
            self.dynamic["median"] = statistics.median(recent)
        if not self.position and self.data.close[0] >= self.highest[-1] and fast[0] > self.sma_10[0]:
            price = self.data.close[0]
            self.buy_bracket(
                limitprice=price * (1 + self.p.take),
                price=price,
                stopprice=price * (1 - self.p.stop),
            )
