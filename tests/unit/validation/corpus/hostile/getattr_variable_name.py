# expect: dynamic_attribute
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        name = 'x'
        getattr(bt, name)
