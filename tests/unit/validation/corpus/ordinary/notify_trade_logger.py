import datetime

import backtrader as bt


class Agent(bt.Strategy):
    def __init__(self):
        self.sma = bt.ind.SMA(period=15)
        self.trades = []

    def notify_order(self, order):
        if order.status == order.Completed:
            side = "BUY" if order.isbuy() else "SELL"
            print("{} {} @ {:.2f}".format(side, order.executed.size, order.executed.price))

    def notify_trade(self, trade):
        if trade.isclosed:
            self.trades.append((datetime.date.today(), trade.pnl, trade.pnlcomm))

    def next(self):
        if self.data.close[0] > self.sma[0]:
            self.order_target_size(target=10)
        else:
            self.order_target_size(target=0)

    def stop(self):
        total = sum(pnl for _, pnl, _ in self.trades)
        print("trades=%d pnl=%.2f" % (len(self.trades), total))
