"""Honest, order_target_percent: rebalance every feed to an equal share every ten bars."""

import backtrader as bt


class Agent(bt.Strategy):
    """Equal weights, recomputed from the broker's value; flat in the first month."""

    def next(self):
        if len(self) < 20 or len(self) % 10:
            return
        weight = 0.9 / len(self.datas)
        for i, data in enumerate(self.datas):
            target = weight if (len(self) // 10 + i) % 3 else 0.0
            self.order_target_percent(data=data, target=target)
