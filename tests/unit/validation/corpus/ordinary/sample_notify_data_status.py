"""Trade only on live data, print status changes and cash/value (live-feed idioms)."""
import backtrader as bt


class Agent(bt.Strategy):
    params = dict(smaperiod=5, trade=True, stake=10, exectype=bt.Order.Market)

    def __init__(self):
        self.datastatus = False
        self.sma = bt.indicators.MovAv.SMA(self.data, period=self.p.smaperiod)
        self.orderid = list()

    def notify_data(self, data, status, *args, **kwargs):
        print("*" * 5, "DATA NOTIF:", data._getstatusname(status), *args)
        if status == data.LIVE:
            self.datastatus = True

    def notify_store(self, msg, *args, **kwargs):
        print("*" * 5, "STORE NOTIF:", msg)

    def notify_order(self, order):
        if order.status in [order.Completed, order.Cancelled, order.Rejected]:
            self.order = None

    def next(self):
        for data in self.datas:
            txt = [data._name or "data", "%04d" % len(data), data.datetime.datetime(0).isoformat()]
            print(", ".join(txt))
        if not self.p.trade:
            return
        if not self.position and len(self.orderid) < 1:
            self.order = self.buy(size=self.p.stake, exectype=self.p.exectype)
            self.orderid.append(self.order)
        elif self.position.size > 0 and not self.order:
            self.order = self.sell(size=self.p.stake)
