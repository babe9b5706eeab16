# expect: forbidden_name
import backtrader as bt


def register(fn):
    globals()['x'] = fn
    return fn


class Agent(bt.Strategy):
    @register
    def next(self):
        pass
