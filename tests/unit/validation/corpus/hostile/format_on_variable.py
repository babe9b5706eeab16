# expect: dynamic_format
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        # A template built at run time could hold any field; only literals and variables
        # (whose literals are checked where they are written) may be formatted.
        print(("{0." + "_" * 2 + "class" + "_" * 2 + "}").format(self))
        print(str.format("{0}" + "", self))
