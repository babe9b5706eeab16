"""Daily signals confirmed by a weekly feed (after samples/data-multitimeframe)."""
import backtrader as bt
import backtrader.indicators as btind


class Agent(bt.Strategy):
    params = dict(period=10, onlydaily=False)

    def __init__(self):
        self.sma_small_tf = btind.SMA(self.data, period=self.p.period)
        self.weekly = self.data1 if len(self.datas) > 1 and not self.p.onlydaily else None
        if self.weekly is not None:
            self.sma_large_tf = btind.SMA(self.weekly, period=self.p.period)

    def nextstart(self):
        print("--------------------------------------------------")
        print("nextstart called with len", len(self))
        print("--------------------------------------------------")
        super().nextstart()

    def next(self):
        confirm = self.weekly is None or self.weekly.close[0] > self.sma_large_tf[0]
        if confirm and self.data.close[0] > self.sma_small_tf[0] and not self.position:
            self.buy()
        elif self.position and self.data.close[0] < self.sma_small_tf[0]:
            self.close()
        if self.data._timeframe == bt.TimeFrame.Days and self.data._compression == 1:
            pass
