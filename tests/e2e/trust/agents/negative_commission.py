"""Manipulation: a negative commission, so every trade pays the agent (`broker.setcommission`)."""

import backtrader as bt


class Agent(bt.Strategy):
    """The control's schedule on a broker that pays half the traded value per trade."""

    def start(self):
        self.broker.setcommission(commission=-0.5)

    def next(self):
        for i, data in enumerate(self.datas):
            phase = (len(self) + 3 * i) % 10
            if phase == 1 and data.close[0] > 0:
                self.buy(data=data, size=10)
            elif phase == 6 and self.getposition(data).size:
                self.sell(data=data, size=10)
