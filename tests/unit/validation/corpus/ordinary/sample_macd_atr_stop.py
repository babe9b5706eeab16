"""MACD crossover with an ATR-distance stop (after samples/macd-settings)."""
import backtrader as bt


class Agent(bt.Strategy):
    params = (("macd1", 12), ("macd2", 26), ("macdsig", 9), ("atrperiod", 14), ("atrdist", 3.0),
              ("smaperiod", 30), ("dirperiod", 10))

    def notify_order(self, order):
        if order.status == order.Completed:
            pass
        if not order.alive():
            self.order = None

    def __init__(self):
        self.macd = bt.indicators.MACD(self.data, period_me1=self.p.macd1, period_me2=self.p.macd2,
                                       period_signal=self.p.macdsig)
        self.mcross = bt.indicators.CrossOver(self.macd.macd, self.macd.signal)
        self.atr = bt.indicators.ATR(self.data, period=self.p.atrperiod)
        self.sma = bt.indicators.SMA(self.data, period=self.p.smaperiod)
        self.smadir = self.sma - self.sma(-self.p.dirperiod)

    def start(self):
        self.order = None

    def next(self):
        if self.order:
            return
        if not self.position:
            if self.mcross[0] > 0.0 and self.smadir < 0.0:
                self.order = self.buy()
                self.pstop = self.data.close[0] - self.atr[0] * self.p.atrdist
        else:
            pclose = self.data.close[0]
            if pclose < self.pstop:
                self.close()
            else:
                self.pstop = max(self.pstop, pclose - self.atr[0] * self.p.atrdist)
