# expect: forbidden_io
import backtrader as bt
import numpy as np


class Agent(bt.Strategy):
    def start(self):
        np.load("/tmp/evil.npy", allow_pickle=True)
