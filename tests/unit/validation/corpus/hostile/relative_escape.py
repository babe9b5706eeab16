# expect: relative_import
import backtrader as bt
from .. import secrets


class Agent(bt.Strategy):
    pass
