# expect: forbidden_name dynamic_attribute
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        getattr(__builtins__, 'ev' + 'al')('1')
