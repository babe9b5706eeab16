# expect: module_as_value
import backtrader as bt
import numpy as np


class Agent(bt.Strategy):
    def next(self):
        m = np
        hidden = [bt.utils][0]
        hidden.py3.urlopen("http://127.0.0.1/")
        m.lib.format.open_memmap("/tmp/x")
