"""Entry limit with a stop-loss and a take-profit child, built by hand (after samples/bracket)."""
import datetime

import backtrader as bt


class Agent(bt.Strategy):
    params = dict(ma=bt.ind.SMA, p1=5, p2=15, limit=0.005, limdays=3, limdays2=1000, usebracket=False)

    def __init__(self):
        fast, slow = self.p.ma(period=self.p.p1), self.p.ma(period=self.p.p2)
        self.cross = bt.ind.CrossOver(fast, slow)
        self.orefs = list()

    def notify_order(self, order):
        side = "Buy" * order.isbuy() or "Sell"
        print("{}: ref {} / {} / {}".format(self.data.datetime.date(0), order.ref, side, order.getstatusname()))
        if not order.alive() and order.ref in self.orefs:
            self.orefs.remove(order.ref)

    def next(self):
        if self.orefs or self.position or self.cross <= 0.0:
            return
        close = self.data.close[0]
        entry = close * (1.0 - self.p.limit)
        stop, target = entry - 0.02 * close, entry + 0.02 * close
        entry_valid = datetime.timedelta(self.p.limdays)
        exit_valid = datetime.timedelta(self.p.limdays2)
        if self.p.usebracket:
            orders = self.buy_bracket(price=entry, valid=entry_valid, stopprice=stop,
                                      stopargs=dict(valid=exit_valid), limitprice=target,
                                      limitargs=dict(valid=exit_valid))
            self.orefs = [o.ref for o in orders]
            return
        parent = self.buy(exectype=bt.Order.Limit, price=entry, valid=entry_valid, transmit=False)
        low = self.sell(exectype=bt.Order.Stop, price=stop, valid=exit_valid, parent=parent, transmit=False)
        high = self.sell(exectype=bt.Order.Limit, price=target, valid=exit_valid, parent=parent, transmit=True)
        self.orefs = [parent.ref, low.ref, high.ref]
