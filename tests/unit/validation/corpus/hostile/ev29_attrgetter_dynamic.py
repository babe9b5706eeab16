# expect: dynamic_attribute private_attribute
import backtrader as bt
import operator


class Agent(bt.Strategy):
    def next(self):
        name = "_" + "_globals__"
        operator.attrgetter(name)(self.next)
        operator.methodcaller("_getframe")
        operator.attrgetter("broker._cash")(self)
