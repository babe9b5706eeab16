# expect: forbidden_attribute
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        gen = (x for x in [1])
        gen.gi_frame.f_back.f_globals
