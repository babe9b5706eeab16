# expect: module_attribute
import backtrader as bt
import enum


class Agent(bt.Strategy):
    def next(self):
        enum.bltns.open("/etc/passwd")
