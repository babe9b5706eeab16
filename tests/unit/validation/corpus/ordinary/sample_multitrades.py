"""Several concurrent trades told apart by tradeid (after samples/multitrades)."""
import itertools

import backtrader as bt


class Agent(bt.Strategy):
    params = dict(period=15, stake=1, onlylong=False, mtrade=True)

    def __init__(self):
        self.signal = bt.ind.CrossOver(self.data.close, bt.ind.SMA(self.data, period=self.p.period))
        self.tradeid = itertools.cycle([0, 1, 2] if self.p.mtrade else [0])
        self.curtradeid = -1
        self.orderid = None

    def notify_trade(self, trade):
        if trade.isclosed:
            print("trade %d closed pnl %.2f" % (trade.tradeid, trade.pnlcomm))

    def notify_order(self, order):
        if not order.alive():
            self.orderid = None

    def next(self):
        if self.orderid:
            return
        if self.signal > 0.0:
            if self.position:
                self.close(tradeid=self.curtradeid)
            self.curtradeid = next(self.tradeid)
            self.orderid = self.buy(size=self.p.stake, tradeid=self.curtradeid)
        elif self.signal < 0.0:
            if self.position:
                self.close(tradeid=self.curtradeid)
            if not self.p.onlylong:
                self.curtradeid = next(self.tradeid)
                self.orderid = self.sell(size=self.p.stake, tradeid=self.curtradeid)
