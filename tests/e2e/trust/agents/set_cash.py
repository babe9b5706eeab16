"""Manipulation: a billion dollars of cash mid-run (`broker.setcash`)."""

import backtrader as bt


class Agent(bt.Strategy):
    """The control's schedule, plus `setcash(1e9)` on bar 40."""

    def next(self):
        if len(self) == 40:
            self.broker.setcash(1e9)
        for i, data in enumerate(self.datas):
            phase = (len(self) + 3 * i) % 10
            if phase == 1 and data.close[0] > 0:
                self.buy(data=data, size=10)
            elif phase == 6 and self.getposition(data).size:
                self.sell(data=data, size=10)
