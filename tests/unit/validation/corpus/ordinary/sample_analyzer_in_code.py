"""An analyzer of its own, computing a running drawdown; read in stop() (analyzer idioms)."""
import backtrader as bt


class Drawdown(bt.Analyzer):
    def start(self):
        self.peak = float("-inf")
        self.maxdd = 0.0

    def next(self):
        value = self.strategy.broker.getvalue()
        self.peak = max(self.peak, value)
        self.maxdd = max(self.maxdd, (self.peak - value) / self.peak if self.peak > 0 else 0.0)

    def get_analysis(self):
        return dict(maxdrawdown=self.maxdd)


class Agent(bt.Strategy):
    params = (("period", 30),)

    def __init__(self):
        self.dd = Drawdown()
        self.ema = bt.ind.EMA(period=self.p.period)

    def next(self):
        if self.data.close[0] > self.ema[0] and not self.position:
            self.buy()
        elif self.data.close[0] < self.ema[0] and self.position:
            self.close()

    def stop(self):
        print("max drawdown {:.2%}".format(self.dd.get_analysis()["maxdrawdown"]))
