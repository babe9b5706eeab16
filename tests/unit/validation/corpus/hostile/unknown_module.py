# expect: unknown_import
import backtrader as bt
import requestz


class Agent(bt.Strategy):
    pass
