# expect: forbidden_attribute
import backtrader as bt
import pandas as pd


class Agent(bt.Strategy):
    def next(self):
        pd.eval("1 + 1")
