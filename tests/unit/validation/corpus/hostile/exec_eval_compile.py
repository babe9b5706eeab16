# expect: forbidden_name
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        exec('x = 1')
        eval('1 + 1')
        compile('1', 'f', 'eval')
