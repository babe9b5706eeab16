"""Manipulation: a million dollars of free cash every bar (`broker.add_cash`)."""

import backtrader as bt


class Agent(bt.Strategy):
    """The control's schedule, plus `add_cash` on every bar."""

    def next(self):
        self.broker.add_cash(1_000_000)
        for i, data in enumerate(self.datas):
            phase = (len(self) + 3 * i) % 10
            if phase == 1 and data.close[0] > 0:
                self.buy(data=data, size=10)
            elif phase == 6 and self.getposition(data).size:
                self.sell(data=data, size=10)
