# expect: forbidden_name
import backtrader as bt


@eval
def hook():
    pass


class Agent(bt.Strategy):
    pass
