# expect: forbidden_io
import backtrader as bt


class Agent(bt.Strategy):
    def start(self):
        self.leak = bt.feeds.GenericCSVData(dataname="/etc/passwd")
