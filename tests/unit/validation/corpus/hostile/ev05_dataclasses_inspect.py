# expect: module_attribute
import backtrader as bt
import dataclasses


class Agent(bt.Strategy):
    def next(self):
        dataclasses.inspect.currentframe().f_back
