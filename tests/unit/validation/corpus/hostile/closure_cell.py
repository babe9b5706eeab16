# expect: dunder_attribute forbidden_attribute
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        def outer():
            secret = 1
            return lambda: secret
        outer().__closure__[0].cell_contents
