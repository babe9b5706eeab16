# expect: dunder_attribute dunder_string
import backtrader as bt
from operator import attrgetter


class Agent(bt.Strategy):
    def next(self):
        attrgetter('__globals__')(self.next)
