# expect: forbidden_io
import backtrader as bt
from backtrader.feeds import YahooFinanceData


class Agent(bt.Strategy):
    def start(self):
        YahooFinanceData(dataname="AAPL")
