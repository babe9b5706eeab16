# expect: forbidden_import forbidden_attribute
import backtrader as bt
from importlib import import_module


class Agent(bt.Strategy):
    def next(self):
        import_module('os')
