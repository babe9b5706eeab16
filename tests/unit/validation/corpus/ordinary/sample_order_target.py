"""Target size, value or percent from the day of the month (after samples/order_target)."""
import backtrader as bt


class Agent(bt.Strategy):
    params = (("use_target_size", False), ("use_target_value", False), ("use_target_percent", True))

    def notify_order(self, order):
        if order.status == order.Completed:
            print("%s %s %.2f" % (self.data.datetime.date(0), order.ordtypename(), order.executed.price))

    def start(self):
        self.order = None

    def next(self):
        if self.order:
            return
        day = self.data.datetime.date(0).day
        value, cash = self.broker.getvalue(), self.broker.getcash()
        if self.p.use_target_size:
            target = day if day < 15 else 0
            self.order = self.order_target_size(target=target)
        elif self.p.use_target_value:
            self.order = self.order_target_value(target=day * 1000.0 if day < 20 else 0.0)
        else:
            percent = day / 100.0 if day < 25 else 0.0
            self.order = self.order_target_percent(target=percent)
        print("%04d value %.2f cash %.2f" % (len(self), value, cash))

    def notify_trade(self, trade):
        self.order = None
