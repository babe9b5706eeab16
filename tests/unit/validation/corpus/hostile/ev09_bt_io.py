# expect: module_attribute
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        bt.io.open("/etc/passwd").read()
