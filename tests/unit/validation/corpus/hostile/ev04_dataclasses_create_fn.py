# expect: private_attribute
import backtrader as bt
import dataclasses


class Agent(bt.Strategy):
    def next(self):
        dataclasses._create_fn("f", [], ["return 1"])
