# expect: forbidden_attribute module_as_value
import backtrader as bt
import numpy


class Agent(bt.Strategy):
    def next(self, lib=numpy):
        numpy.os.system("id")
