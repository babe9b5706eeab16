# expect: dunder_attribute
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        getattr(self, '__class__')
