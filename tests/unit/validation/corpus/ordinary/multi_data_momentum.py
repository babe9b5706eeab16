import math
from collections import defaultdict

import backtrader as bt


class Agent(bt.Strategy):
    params = (("lookback", 20), ("top_n", 2))

    def __init__(self):
        self.roc = {d: bt.indicators.RateOfChange(d.close, period=self.p.lookback) for d in self.datas}
        self.rebalances = defaultdict(int)

    def next(self):
        ranked = sorted(self.datas, key=lambda d: self.roc[d][0], reverse=True)
        winners = ranked[: self.p.top_n]
        weight = 1.0 / max(len(winners), 1)
        for data in self.datas:
            target = weight if data in winners and not math.isnan(self.roc[data][0]) else 0.0
            self.order_target_percent(data=data, target=target)
            self.rebalances[data._name] += 1
