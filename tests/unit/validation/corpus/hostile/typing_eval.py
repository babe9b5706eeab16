# expect: forbidden_attribute
import backtrader as bt
from typing import get_type_hints


class Agent(bt.Strategy):
    pass
