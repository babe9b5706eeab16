"""Manipulation: write a fortune into the price lines after every decision."""

import backtrader as bt


class Agent(bt.Strategy):
    """The control's schedule; then every feed's close and high become 1e6."""

    def next(self):
        for i, data in enumerate(self.datas):
            phase = (len(self) + 3 * i) % 10
            if phase == 1 and data.close[0] > 0:
                self.buy(data=data, size=10)
            elif phase == 6 and self.getposition(data).size:
                self.sell(data=data, size=10)
        for data in self.datas:
            data.close[0] = 1e6
            data.high[0] = 1e6
