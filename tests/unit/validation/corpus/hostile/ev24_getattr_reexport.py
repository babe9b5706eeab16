# expect: module_attribute
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        getattr(bt.utils.py3, "urlopen")("http://127.0.0.1/")
        getattr(bt, "sys").modules
