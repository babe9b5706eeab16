# expect: module_attribute
import backtrader as bt
import json


class Agent(bt.Strategy):
    def next(self):
        json.codecs.open("/etc/passwd").read()
