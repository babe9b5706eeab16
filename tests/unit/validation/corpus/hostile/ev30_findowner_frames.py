# expect: forbidden_attribute
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        bt.metabase.findowner(self, bt.Strategy)
