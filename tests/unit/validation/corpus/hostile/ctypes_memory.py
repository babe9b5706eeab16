# expect: forbidden_import forbidden_name
import backtrader as bt
import ctypes


class Agent(bt.Strategy):
    def next(self):
        memoryview(b'x')
