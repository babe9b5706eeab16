"""Manipulation: rewrite every analyzer's results in `stop()` (the old equity analyzer's trick)."""

import backtrader as bt


class Agent(bt.Strategy):
    """The control's schedule; at the end, every analyzer in reach reports a fortune."""

    def next(self):
        for i, data in enumerate(self.datas):
            phase = (len(self) + 3 * i) % 10
            if phase == 1 and data.close[0] > 0:
                self.buy(data=data, size=10)
            elif phase == 6 and self.getposition(data).size:
                self.sell(data=data, size=10)

    def stop(self):
        for analyzer in self.analyzers:
            analyzer.rets["final_value"] = 1e12
            analyzer.rets["total_return"] = 1e6
            analyzer.values = [1e12] * 3
            analyzer.decisions = 10**9
            print("rewrote analyzer", type(analyzer).__name__)
