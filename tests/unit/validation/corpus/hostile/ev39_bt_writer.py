# expect: forbidden_io
import backtrader as bt


class Agent(bt.Strategy):
    def start(self):
        bt.WriterFile(out="/tmp/out.csv")
