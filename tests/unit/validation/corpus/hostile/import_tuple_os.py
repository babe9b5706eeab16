# expect: forbidden_import
import backtrader as bt
import math, os


class Agent(bt.Strategy):
    def next(self):
        os.system('id')
