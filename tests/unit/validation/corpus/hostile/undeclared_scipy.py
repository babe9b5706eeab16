# expect: undeclared_requirement
import backtrader as bt
import scipy.stats


class Agent(bt.Strategy):
    pass
