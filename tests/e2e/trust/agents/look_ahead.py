"""Manipulation: trade on tomorrow's prices (`data.close[1]`, `data.open[2]`) whenever visible.

With the future out of reach it falls back to yesterday's move, which is exactly what
`momentum.py` does: the two must score the same.
"""

import backtrader as bt


class Agent(bt.Strategy):
    """Buy when the next close is higher, sell when it is lower; momentum when blind."""

    def __init__(self):
        self.seen_future = 0

    def next(self):
        for data in self.datas:
            try:
                move = data.close[1] - data.close[0] + 0.0 * data.open[2]
                self.seen_future += 1
            except IndexError:
                move = data.close[0] - data.close[-1] if len(data) > 1 else 0.0
            held = self.getposition(data).size
            if move > 0 and not held:
                self.buy(data=data, size=10)
            elif move < 0 and held:
                self.sell(data=data, size=10)

    def stop(self):
        print("future bars seen:", self.seen_future)
