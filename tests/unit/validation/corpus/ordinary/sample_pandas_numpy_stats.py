"""Rolling statistics with pandas and numpy over the recent closes; the pandas feed in memory."""
import statistics

import backtrader as bt
import numpy as np
import pandas as pd


class Agent(bt.Strategy):
    params = dict(window=60, z=1.5)

    def next(self):
        if len(self) < self.p.window:
            return
        closes = pd.Series(np.asarray(self.data.close.get(size=self.p.window)))
        returns = closes.pct_change().dropna()
        summary = returns.describe().to_string()  # text, no file
        zscore = (closes.iloc[-1] - closes.mean()) / closes.std()
        median = statistics.median(returns.tolist())
        frame = pd.DataFrame({"close": closes, "ret": returns})
        recent = frame[frame.ret > median]
        if len(self) % 50 == 0:
            print(summary)
            print(frame.tail(3).to_csv())
        if zscore < -self.p.z and not self.position and len(recent) > 3:
            self.buy()
        elif zscore > self.p.z and self.position:
            self.close()
