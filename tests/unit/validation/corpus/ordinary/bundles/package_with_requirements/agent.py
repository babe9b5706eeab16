import backtrader as bt
import numpy as np
from scipy import stats
from sklearn.linear_model import LinearRegression


class Agent(bt.Strategy):
    params = (("window", 60),)

    def next(self):
        if len(self) < self.p.window:
            return
        y = np.array(self.data.close.get(size=self.p.window))
        x = np.arange(len(y)).reshape(-1, 1)
        slope = LinearRegression().fit(x, y).coef_[0]
        skew = stats.skew(np.diff(y))
        if slope > 0 and skew > 0 and not self.position:
            self.buy()
        elif slope < 0 and self.position:
            self.close()
