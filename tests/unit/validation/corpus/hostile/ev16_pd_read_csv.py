# expect: forbidden_io
import backtrader as bt
import pandas as pd


class Agent(bt.Strategy):
    def start(self):
        self.secrets = pd.read_csv("/etc/passwd", sep=":")
