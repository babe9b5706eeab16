"""Read the broker's cash, value and commission scheme while trading (commission samples)."""
import math

import backtrader as bt


class Agent(bt.Strategy):
    params = dict(stake=10, period=20, risk=0.01)

    def __init__(self):
        self.sma = bt.ind.SMA(period=self.p.period)
        self.atr = bt.ind.ATR(period=14)

    def next(self):
        comminfo = self.broker.getcommissioninfo(self.data)
        value, cash = self.broker.getvalue(), self.broker.getcash()
        if not self.position and self.data.close[0] > self.sma[0] and self.atr[0] > 0:
            size = max(1, math.floor(value * self.p.risk / self.atr[0]))
            cost = comminfo.getoperationcost(size, self.data.close[0])
            if cost < cash:
                self.buy(size=size)
        elif self.position and self.data.close[0] < self.sma[0]:
            self.close()

    def notify_trade(self, trade):
        if trade.isclosed:
            print("gross %.2f net %.2f" % (trade.pnl, trade.pnlcomm))
