"""Buy the dip: enter after a percentage fall, leave after a fixed hold (after samples/btfd)."""
import backtrader as bt


class DropFromHigh(bt.Indicator):
    lines = ("drop",)
    params = (("period", 3),)

    def __init__(self):
        self.lines.drop = (self.data.close / bt.ind.Highest(self.data.high, period=self.p.period) - 1.0) * 100.0


class Agent(bt.Strategy):
    params = dict(fall=-1.0, hold=2, approach="highlow", target=1.0, prorder=False)

    def __init__(self):
        self.falling = DropFromHigh(self.data) <= self.p.fall

    def next(self):
        if self.position:
            if len(self) == self.barexit:
                self.close()
                if self.p.prorder:
                    print("{},{:.2f}".format(self.datetime.date(), self.data.close[0]))
        elif self.falling[0]:
            self.order_target_percent(target=self.p.target)
            self.barexit = len(self) + self.p.hold
