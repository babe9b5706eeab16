"""Honest control: 10-share round trips on a fixed schedule, whatever the prices.

Every schedule-based manipulator below places exactly these orders, so each must score exactly
what this agent scores: its manipulation may change only what it believes about itself.
"""

import backtrader as bt


class Agent(bt.Strategy):
    """Buy each feed on phase 1 of a 10-bar cycle (offset per feed), sell it on phase 6."""

    def next(self):
        for i, data in enumerate(self.datas):
            phase = (len(self) + 3 * i) % 10
            if phase == 1 and data.close[0] > 0:
                self.buy(data=data, size=10)
            elif phase == 6 and self.getposition(data).size:
                self.sell(data=data, size=10)
