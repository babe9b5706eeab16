"""SMA crossover: go long when the fast average crosses above the slow one, exit on the cross back.

Submit it with `farm demo`, or:
    curl -H "Authorization: Bearer $(farm token --user alice)" \
         -F file=@examples/sma_crossover.py -F name="SMA crossover" http://127.0.0.1:8080/api/agents
"""

import backtrader as bt


class Agent(bt.Strategy):
    """Trade each data feed on its own fast/slow simple-moving-average crossover."""

    params = (("fast", 10), ("slow", 30), ("stake_pct", 0.1))

    def __init__(self):
        self.crossovers = {}
        for data in self.datas:
            fast = bt.indicators.SMA(data.close, period=self.p.fast)
            slow = bt.indicators.SMA(data.close, period=self.p.slow)
            self.crossovers[data] = bt.indicators.CrossOver(fast, slow)

    def next(self):
        for data, crossover in self.crossovers.items():
            position = self.getposition(data)
            if not position and crossover[0] > 0:
                # Size each entry as a fixed share of the portfolio, split across the feeds.
                budget = self.broker.getvalue() * self.p.stake_pct
                size = int(budget / data.close[0])
                if size > 0:
                    self.buy(data=data, size=size)
            elif position and crossover[0] < 0:
                self.close(data=data)
