# expect: forbidden_import
import backtrader as bt
from builtins import open as o


class Agent(bt.Strategy):
    pass
