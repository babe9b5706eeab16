"""Three limit entries in one-cancels-others group (after samples/oco)."""
import datetime

import backtrader as bt


class Agent(bt.Strategy):
    params = dict(p1=5, p2=15, limit=0.005, limdays=3, limdays2=1000, hold=10, oco1oco2=False)

    def __init__(self):
        self.cross = bt.ind.CrossOver(bt.ind.SMA(period=self.p.p1), bt.ind.SMA(period=self.p.p2))
        self.orefs = []
        self.holdstart = 0

    def notify_order(self, order):
        if order.status == order.Completed:
            self.holdstart = len(self)
        if not order.alive() and order.ref in self.orefs:
            self.orefs.remove(order.ref)

    def next(self):
        if self.orefs:
            return
        if not self.position:
            if self.cross > 0.0:
                close = self.data.close[0]
                p1 = close * (1.0 - self.p.limit)
                p2, p3 = p1 - 0.02 * close, p1 - 0.04 * close
                valid1 = datetime.timedelta(self.p.limdays)
                valid2 = datetime.timedelta(self.p.limdays2)
                o1 = self.buy(exectype=bt.Order.Limit, price=p1, valid=valid1)
                o2 = self.buy(exectype=bt.Order.Limit, price=p2, valid=valid2, oco=o1)
                o3 = self.buy(exectype=bt.Order.Limit, price=p3, valid=valid2, oco=o2 if self.p.oco1oco2 else o1)
                self.orefs = [o1.ref, o2.ref, o3.ref]
        elif (len(self) - self.holdstart) >= self.p.hold:
            self.close()
