# expect: forbidden_import
import backtrader as bt
from os.path import *


class Agent(bt.Strategy):
    pass
