# expect: forbidden_import
import backtrader as bt


class Agent(bt.Strategy):
    import pickle as p
