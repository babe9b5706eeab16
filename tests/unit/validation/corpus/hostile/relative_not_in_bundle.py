# expect: relative_import
import backtrader as bt
from . import os


class Agent(bt.Strategy):
    pass
