"""Honest brackets orders: limit entry with a take-profit and a stop-loss; stale ones cancelled."""

import backtrader as bt


class Agent(bt.Strategy):
    """One bracket at a time; cancel its entry if it has not filled within four bars."""

    def __init__(self):
        self.bracket = []
        self.placed_at = 0

    def next(self):
        close = self.data.close[0]
        alive = [o for o in self.bracket if o.alive()]
        if not alive and not self.position:
            self.bracket = self.buy_bracket(
                size=10, price=close * 0.995, limitprice=close * 1.03, stopprice=close * 0.97
            )
            self.placed_at = len(self)
        elif alive and not self.position and len(self) - self.placed_at >= 4:
            self.cancel(self.bracket[0])
