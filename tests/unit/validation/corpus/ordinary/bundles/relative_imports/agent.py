import backtrader as bt

from .lib import filters
from .lib.sizing import position_size


class Agent(bt.Strategy):
    def next(self):
        if filters.trend_up(self.data.close[0], self.data.close[-5]) and not self.position:
            self.buy(size=position_size(self.broker.getcash(), self.data.close[0]))
