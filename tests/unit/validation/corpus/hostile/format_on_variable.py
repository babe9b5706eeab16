# expect: dynamic_format
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        template = 'x'
        print(str.format(template, self))
