"""Pivot points from a coarser second feed, coupled to the first (after samples/pivot-point)."""
import backtrader as bt


class Agent(bt.Strategy):
    params = (("usepp1", False),)

    def __init__(self):
        source = self.data1 if len(self.datas) > 1 else self.data
        self.pp = bt.ind.PivotPoint(source)
        self.pp.plotinfo.plot = False
        if not self.p.usepp1:
            self.pp = self.pp()  # couple to the main data's clock

    def next(self):
        txt = ",".join(["%04d" % len(self), "%04d" % len(self.data0), self.data.datetime.date(0).isoformat(),
                        "%.2f" % self.pp.lines.p[0]])
        print(txt)
        if self.data.close[0] > self.pp.lines.r1[0] and not self.position:
            self.buy()
        elif self.data.close[0] < self.pp.lines.s1[0] and self.position:
            self.close()
