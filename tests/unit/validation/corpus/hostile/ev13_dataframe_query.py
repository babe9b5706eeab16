# expect: forbidden_attribute
import backtrader as bt
import pandas as pd


class Agent(bt.Strategy):
    def next(self):
        frame = pd.DataFrame({"a": [1]})
        frame.query("a.__class__ == 1")
