# expect: forbidden_import forbidden_attribute
import backtrader as bt
import sys


class Agent(bt.Strategy):
    def next(self):
        sys.modules['os'].system('id')
