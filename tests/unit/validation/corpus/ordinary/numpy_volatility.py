import backtrader as bt
import numpy as np


class Agent(bt.Strategy):
    params = (("window", 30), ("max_vol", 0.02))

    def next(self):
        if len(self) < self.p.window:
            return
        closes = np.array(self.data.close.get(size=self.p.window))
        returns = np.diff(np.log(closes))
        vol = float(np.std(returns))
        if vol < self.p.max_vol and not self.position:
            self.buy()
        elif vol >= self.p.max_vol and self.position:
            self.close()
