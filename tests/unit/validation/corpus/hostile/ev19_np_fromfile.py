# expect: forbidden_io
import backtrader as bt
import numpy as np


class Agent(bt.Strategy):
    def start(self):
        np.fromfile("/etc/passwd", dtype=np.uint8)
