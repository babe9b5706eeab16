"""Manipulation: stop the run at a peak (`self.env.runstop()`), hoping the score ends there."""

import backtrader as bt

STOP_AT = 63


class Agent(bt.Strategy):
    """The control's schedule until bar STOP_AT, then stop the whole cerebro while holding."""

    def next(self):
        for i, data in enumerate(self.datas):
            phase = (len(self) + 3 * i) % 10
            if phase == 1 and data.close[0] > 0:
                self.buy(data=data, size=10)
            elif phase == 6 and self.getposition(data).size:
                self.sell(data=data, size=10)
        if len(self) == STOP_AT:
            self.env.runstop()
