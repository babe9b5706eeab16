# expect: dunder_attribute
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        g = (lambda: 0).__globals__
        g['__builtins__']
