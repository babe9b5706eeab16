# expect: module_attribute
import backtrader as bt
import math


class Agent(bt.Strategy):
    def start(self):
        math.sqrt = print
        bt.utils.date2num = None
