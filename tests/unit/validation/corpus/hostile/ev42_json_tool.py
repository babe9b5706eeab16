# expect: forbidden_io
import backtrader as bt
import json.tool


class Agent(bt.Strategy):
    pass
