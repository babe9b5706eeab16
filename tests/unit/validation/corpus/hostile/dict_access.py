# expect: dunder_attribute
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        self.__dict__['x'] = 1
