"""A strategy under its own name, exported as Agent (after samples/multidata-strategy)."""
import backtrader as bt
import backtrader.indicators as btind


class CrossOnSecondData(bt.Strategy):
    params = dict(period=15, stake=10, printout=False)

    def __init__(self):
        self.orderid = None
        sma = btind.MovAv.SMA(self.data1 if len(self.datas) > 1 else self.data, period=self.p.period)
        source = self.data1 if len(self.datas) > 1 else self.data
        self.signal = btind.CrossOver(source.close, sma)

    def log(self, txt, dt=None):
        if self.p.printout:
            dt = bt.num2date(dt or self.data.datetime[0])
            print("%s, %s" % (dt.isoformat(), txt))

    def notify_order(self, order):
        if order.status in [bt.Order.Submitted, bt.Order.Accepted]:
            return
        if order.status == order.Completed:
            side = "BUY" if order.isbuy() else "SELL"
            self.log("%s COMPLETE, %.2f" % (side, order.executed.price), order.executed.dt)
        elif order.status in [order.Expired, order.Canceled, order.Margin]:
            self.log("%s ," % order.Status[order.status])
        self.orderid = None

    def next(self):
        if self.orderid:
            return
        if not self.position and self.signal > 0.0:
            self.orderid = self.buy(size=self.p.stake)
        elif self.position and self.signal < 0.0:
            self.orderid = self.close()


Agent = CrossOnSecondData
