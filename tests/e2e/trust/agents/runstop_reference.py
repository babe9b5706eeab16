"""Honest twin of `runstop.py`: the same orders, then no more, the position held to the end."""

import backtrader as bt

STOP_AT = 63


class Agent(bt.Strategy):
    """The control's schedule until bar STOP_AT, then hold whatever it holds."""

    def next(self):
        if len(self) > STOP_AT:
            return
        for i, data in enumerate(self.datas):
            phase = (len(self) + 3 * i) % 10
            if phase == 1 and data.close[0] > 0:
                self.buy(data=data, size=10)
            elif phase == 6 and self.getposition(data).size:
                self.sell(data=data, size=10)
