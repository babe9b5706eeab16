import backtrader as bt


class Agent(bt.Strategy):
    params = dict(period=14, low=30, high=70, stake=10)

    def __init__(self):
        self.rsi = bt.indicators.RSI(self.data.close, period=self.p.period)

    def next(self):
        if not self.position:
            if self.rsi[0] < self.p.low:
                self.buy(size=self.p.stake)
        elif self.rsi[0] > self.p.high:
            self.close()
