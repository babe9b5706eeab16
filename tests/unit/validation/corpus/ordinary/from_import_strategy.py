from backtrader import Strategy
from backtrader.indicators import ExponentialMovingAverage as EMA


class Agent(Strategy):
    params = (("period", 12),)

    def __init__(self):
        self.ema = EMA(self.data.close, period=self.p.period)

    def next(self):
        if self.data.close[0] > self.ema[0] and not self.position:
            self.buy()
        elif self.data.close[0] < self.ema[0] and self.position:
            self.sell()
