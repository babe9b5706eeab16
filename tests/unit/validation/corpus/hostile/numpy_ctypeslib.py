# expect: forbidden_attribute
import backtrader as bt
import numpy as np


class Agent(bt.Strategy):
    def next(self):
        np.ctypeslib.as_array(0)
