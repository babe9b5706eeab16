# expect: star_import
import backtrader as bt
from backtrader.utils.py3 import *


class Agent(bt.Strategy):
    def stop(self):
        urlopen("http://127.0.0.1:8080/")
