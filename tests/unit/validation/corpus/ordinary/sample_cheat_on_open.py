"""Decide in next_open with the bar's opening price (after samples/cheat-on-open)."""
import backtrader as bt


class Agent(bt.Strategy):
    params = dict(periods=[10, 30], matype=bt.ind.SMA)

    def __init__(self):
        self.cheating = self.cerebro.p.cheat_on_open
        mas = [self.p.matype(period=x) for x in self.p.periods]
        self.signal = bt.ind.CrossOver(*mas)
        self.order = None

    def notify_order(self, order):
        if order.status != order.Completed:
            return
        self.order = None
        print("{} {} Executed at price {}".format(bt.num2date(order.executed.dt).date(),
                                                  "Buy" * order.isbuy() or "Sell", order.executed.price))

    def operate(self, fromopen):
        if self.order is not None:
            return
        if self.position and self.signal < 0:
            self.order = self.close()
        elif not self.position and self.signal > 0:
            self.order = self.buy()

    def next(self):
        if not self.cheating:
            self.operate(fromopen=False)

    def next_open(self):
        if self.cheating:
            self.operate(fromopen=True)
