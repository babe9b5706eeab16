# expect: forbidden_import
import backtrader as bt
import os.path


class Agent(bt.Strategy):
    pass
