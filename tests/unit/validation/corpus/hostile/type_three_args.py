# expect: dynamic_type
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        Evil = type('Evil', (object,), {})
