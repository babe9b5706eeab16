"""Every execution type on a crossover, with validity (after samples/order-execution)."""
import datetime

import backtrader as bt

EXECTYPES = dict(Market=bt.Order.Market, Close=bt.Order.Close, Limit=bt.Order.Limit,
                 Stop=bt.Order.Stop, StopLimit=bt.Order.StopLimit)


class Agent(bt.Strategy):
    params = (("smaperiod", 15), ("exectype", "Market"), ("perc1", 3.0), ("perc2", 1.0), ("valid", 4))

    def log(self, txt, dt=None):
        dt = dt or self.data.datetime[0]
        if isinstance(dt, float):
            dt = bt.num2date(dt)
        print("%s, %s" % (dt.isoformat(), txt))

    def notify_order(self, order):
        if order.status in [order.Submitted, order.Accepted]:
            self.log("ORDER ACCEPTED/SUBMITTED", dt=order.created.dt)
            self.order = order
            return
        if order.status in [order.Expired]:
            self.log("BUY EXPIRED")
        elif order.status in [order.Completed]:
            action = "BUY" if order.isbuy() else "SELL"
            self.log("%s EXECUTED, Price: %.2f, Cost: %.2f, Comm %.2f" % (
                action, order.executed.price, order.executed.value, order.executed.comm))
        self.order = None

    def __init__(self):
        sma = bt.indicators.SMA(period=self.p.smaperiod)
        self.buysell = bt.indicators.CrossOver(self.data.close, sma, plot=True)
        self.order = None

    def next(self):
        if self.order:
            return
        if self.position:
            if self.buysell < 0:
                self.log("SELL CREATE, %.2f" % self.data.close[0])
                self.sell()
            return
        if self.buysell <= 0:
            return
        valid = self.data.datetime.date(0) + datetime.timedelta(days=self.p.valid) if self.p.valid else None
        exectype = EXECTYPES[self.p.exectype]
        if exectype in (bt.Order.Market, bt.Order.Close):
            self.buy(exectype=exectype)
        elif exectype == bt.Order.Limit:
            self.buy(exectype=exectype, price=self.data.close * (1.0 - self.p.perc1 / 100.0), valid=valid)
        elif exectype == bt.Order.Stop:
            self.buy(exectype=exectype, price=self.data.close * (1.0 + self.p.perc1 / 100.0), valid=valid)
        else:
            price = self.data.close * (1.0 + self.p.perc1 / 100.0)
            plimit = self.data.close * (1.0 + self.p.perc2 / 100.0)
            self.buy(exectype=exectype, price=price, valid=valid, plimit=plimit)
