# expect: format_attribute
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        print('{0.__class__.__base__}'.format(self))
