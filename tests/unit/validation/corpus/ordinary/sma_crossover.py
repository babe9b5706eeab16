"""Classic SMA crossover from the backtrader quickstart."""
import backtrader as bt


class Agent(bt.Strategy):
    params = (("fast", 10), ("slow", 30), ("printlog", False))

    def __init__(self):
        self.dataclose = self.datas[0].close
        self.order = None
        fast = bt.indicators.SimpleMovingAverage(self.datas[0], period=self.params.fast)
        slow = bt.indicators.SimpleMovingAverage(self.datas[0], period=self.params.slow)
        self.crossover = bt.indicators.CrossOver(fast, slow)

    def log(self, txt, dt=None):
        if self.params.printlog:
            dt = dt or self.datas[0].datetime.date(0)
            print("%s, %s" % (dt.isoformat(), txt))

    def next(self):
        if self.order:
            return
        if not self.position and self.crossover > 0:
            self.log("BUY CREATE, %.2f" % self.dataclose[0])
            self.order = self.buy()
        elif self.position and self.crossover < 0:
            self.log("SELL CREATE, %.2f" % self.dataclose[0])
            self.order = self.sell()

    def notify_order(self, order):
        if order.status in [order.Submitted, order.Accepted]:
            return
        if order.status in [order.Completed]:
            self.log(f"EXECUTED {order.executed.price:.2f}")
        self.order = None
