# expect: module_attribute
import backtrader as bt
import typing


class Agent(bt.Strategy):
    def next(self):
        typing.types.FunctionType
