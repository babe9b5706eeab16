# expect: forbidden_import
import backtrader as bt
from inspect import getmembers


class Agent(bt.Strategy):
    def next(self):
        dict(getmembers(self))
