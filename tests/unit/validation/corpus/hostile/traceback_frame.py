# expect: dunder_attribute forbidden_attribute
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        try:
            1 / 0
        except ZeroDivisionError as exc:
            exc.__traceback__.tb_frame.f_globals
