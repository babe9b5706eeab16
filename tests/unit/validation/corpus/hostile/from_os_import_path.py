# expect: forbidden_import
import backtrader as bt
from os import path


class Agent(bt.Strategy):
    pass
