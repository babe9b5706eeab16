# expect: private_attribute
import backtrader as bt
import collections


class Agent(bt.Strategy):
    def next(self):
        collections._sys.modules["os"]
