# expect: forbidden_import private_attribute
import backtrader as bt
import sys


class Agent(bt.Strategy):
    def next(self):
        sys._getframe(1).f_globals
