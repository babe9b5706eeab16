# expect: forbidden_import
import backtrader as bt
import time


class Agent(bt.Strategy):
    def next(self):
        time.sleep(10)
