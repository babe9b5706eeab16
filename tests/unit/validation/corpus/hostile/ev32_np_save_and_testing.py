# expect: forbidden_io module_attribute
import backtrader as bt
import numpy as np


class Agent(bt.Strategy):
    def stop(self):
        np.save("/tmp/x.npy", np.zeros(2))
        np.testing.assert_equal(1, 1)
