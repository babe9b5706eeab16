import backtrader as bt


class SmaCross(bt.Indicator):
    lines = ("signal",)
    params = (("p1", 10), ("p2", 30))

    def __init__(self):
        sma1 = bt.ind.SMA(period=self.p.p1)
        sma2 = bt.ind.SMA(period=self.p.p2)
        self.lines.signal = bt.ind.CrossOver(sma1, sma2)


class Agent(bt.SignalStrategy):
    def __init__(self):
        self.signal_add(bt.SIGNAL_LONG, SmaCross())
        if __name__ == "__main__":
            print(type(self).__name__)
