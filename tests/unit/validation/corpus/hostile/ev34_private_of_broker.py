# expect: private_attribute
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        self.broker._cash = 1e9
        self.data._d
