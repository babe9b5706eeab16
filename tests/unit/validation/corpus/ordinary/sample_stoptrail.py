"""Enter on a crossover, exit with a trailing stop (after samples/stoptrail)."""
import backtrader as bt


class Agent(bt.Strategy):
    params = dict(ma=bt.ind.SMA, p1=10, p2=30, stoptype=bt.Order.StopTrail, trailamount=0.0,
                  trailpercent=0.02, limitoffset=0.0)

    def __init__(self):
        self.crup = bt.ind.CrossUp(self.p.ma(period=self.p.p1), self.p.ma(period=self.p.p2))
        self.order = None

    def next(self):
        if not self.position:
            if self.crup:
                self.buy()
                self.order = None
            return
        if self.order is None:
            if self.p.stoptype == bt.Order.StopTrailLimit:
                price = self.data.close[0]
                self.order = self.sell(exectype=self.p.stoptype, price=price,
                                       plimit=price + self.p.limitoffset,
                                       trailamount=self.p.trailamount, trailpercent=self.p.trailpercent)
            else:
                self.order = self.sell(exectype=self.p.stoptype, trailamount=self.p.trailamount,
                                       trailpercent=self.p.trailpercent)
            print(",".join(map(str, [self.datetime.date(), self.data.close[0], self.order.created.price])))
        else:
            print(",".join(map(str, [self.datetime.date(), self.data.close[0], self.order.created.price])))
