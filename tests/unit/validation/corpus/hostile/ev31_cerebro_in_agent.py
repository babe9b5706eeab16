# expect: module_attribute
import backtrader as bt


class Agent(bt.Strategy):
    def start(self):
        inner = bt.Cerebro(maxcpus=8)
        inner.run()
