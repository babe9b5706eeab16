# expect: forbidden_name
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        __import__('os').system('id')
