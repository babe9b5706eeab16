"""Trade only on chosen weekdays; an indicator of its own with lines (calendar idioms)."""
import calendar
import collections
import datetime

import backtrader as bt


class RangePercent(bt.Indicator):
    lines = ("rng",)
    plotinfo = dict(plot=True, subplot=True)

    def next(self):
        self.lines.rng[0] = (self.data.high[0] - self.data.low[0]) / self.data.close[0] * 100.0


class Agent(bt.Strategy):
    params = dict(weekdays=(calendar.MONDAY, calendar.THURSDAY), maxrange=3.0)

    def __init__(self):
        self.rng = RangePercent(self.data)
        self.by_weekday = collections.Counter()

    def next(self):
        today: datetime.date = self.data.datetime.date(0)
        self.by_weekday[calendar.day_name[today.weekday()]] += 1
        if today.weekday() not in self.p.weekdays:
            return
        if self.rng[0] < self.p.maxrange and not self.position:
            self.buy()
        elif self.position:
            self.close()

    def stop(self):
        print(sorted(self.by_weekday.items()))
