import backtrader as bt
import pandas as pd


class Agent(bt.Strategy):
    params = (("window", 50), ("entry", -2.0), ("exit", 0.0))

    def next(self):
        if len(self) < self.p.window:
            return
        series = pd.Series(self.data.close.get(size=self.p.window))
        z = (series.iloc[-1] - series.mean()) / series.std()
        if z < self.p.entry and not self.position:
            self.buy()
        elif z > self.p.exit and self.position:
            self.close()
