# expect: dunder_attribute
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        object.__subclasses__()
