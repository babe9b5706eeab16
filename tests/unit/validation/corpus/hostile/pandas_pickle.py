# expect: forbidden_io
import backtrader as bt
import pandas as pd


class Agent(bt.Strategy):
    def next(self):
        pd.read_pickle('x.pkl')
