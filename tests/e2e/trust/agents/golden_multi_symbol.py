"""Honest, multi-symbol: hold the two strongest 20-bar movers, one symbol listed late."""

import backtrader as bt


class Agent(bt.Strategy):
    """Every 5 bars rank the feeds by 20-bar rate of change; buy the top two, sell the rest."""

    def __init__(self):
        self.roc = {data: bt.indicators.RateOfChange(data.close, period=20) for data in self.datas}

    def next(self):
        if len(self) % 5:
            return
        ranked = sorted(
            (d for d in self.datas if len(d) > 20), key=lambda d: self.roc[d][0], reverse=True
        )
        top = ranked[:2]
        for data in self.datas:
            held = self.getposition(data).size
            if data in top and not held:
                self.buy(data=data, size=max(1, int(2000 / data.close[0])))
            elif data not in top and held:
                self.close(data=data)
