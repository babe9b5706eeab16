# expect: missing_agent
import backtrader as bt


class MyStrategy(bt.Strategy):
    pass
