# expect: private_attribute
import backtrader as bt
import random


class Agent(bt.Strategy):
    def next(self):
        random._os.system("id")
