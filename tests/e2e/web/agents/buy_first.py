"""Buy 10 shares of each feed on its first bar and hold: the value moves with every bar after."""

import backtrader as bt


class Agent(bt.Strategy):
    """Hold one position per feed from the first bar on."""

    def next(self):
        for data in self.datas:
            if not self.getposition(data):
                self.buy(data=data, size=10)
