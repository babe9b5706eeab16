# expect: module_attribute
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        for name, value in bt.inspect.getmembers(self):
            print(name)
