"""Honest twin of `look_ahead.py`: yesterday's move decides, as the blind fallback does."""

import backtrader as bt


class Agent(bt.Strategy):
    """Buy after an up day, sell after a down day, 10 shares per feed."""

    def next(self):
        for data in self.datas:
            move = data.close[0] - data.close[-1] if len(data) > 1 else 0.0
            held = self.getposition(data).size
            if move > 0 and not held:
                self.buy(data=data, size=10)
            elif move < 0 and held:
                self.sell(data=data, size=10)
