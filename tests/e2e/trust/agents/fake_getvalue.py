"""Manipulation: the broker's portfolio value replaced by a constant trillion."""

import backtrader as bt


class Agent(bt.Strategy):
    """The control's schedule on a broker whose `getvalue` always says 1e12."""

    def start(self):
        self.broker.getvalue = lambda *args, **kwargs: 1e12

    def next(self):
        for i, data in enumerate(self.datas):
            phase = (len(self) + 3 * i) % 10
            if phase == 1 and data.close[0] > 0:
                self.buy(data=data, size=10)
            elif phase == 6 and self.getposition(data).size:
                self.sell(data=data, size=10)
