# expect: forbidden_io
import backtrader as bt
import numpy as np


class Agent(bt.Strategy):
    def stop(self):
        np.arange(3).dump("/tmp/x.pkl")
