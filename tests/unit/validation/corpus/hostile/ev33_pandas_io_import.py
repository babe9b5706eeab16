# expect: forbidden_io
import backtrader as bt
import pandas.io.parsers
from pandas.io import pickle


class Agent(bt.Strategy):
    pass
