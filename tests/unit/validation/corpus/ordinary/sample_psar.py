"""Parabolic SAR printed and traded (after samples/psar)."""
import backtrader as bt


class Agent(bt.Strategy):
    def __init__(self):
        self.psar0 = bt.ind.ParabolicSAR(self.data0)
        self.psar1 = bt.ind.ParabolicSAR(self.data1) if len(self.datas) > 1 else None

    def next(self):
        txt = ["{:04d}".format(len(self)), "{:04d}".format(len(self.data0)),
               self.data0.datetime.date(0).isoformat(), "{:.2f}".format(self.psar0[0])]
        print(", ".join(txt))
        if self.data.close[0] > self.psar0[0] and not self.position:
            self.buy()
        elif self.data.close[0] < self.psar0[0] and self.position:
            self.close()
