# expect: format_attribute
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        template = "{0.broker._cash}"
        print(template.format(self))
