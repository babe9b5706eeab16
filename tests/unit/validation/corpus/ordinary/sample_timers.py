"""Buy once from a session-start timer; print every bar (after samples/timers)."""
import datetime

import backtrader as bt


class Agent(bt.Strategy):
    params = dict(when=bt.timer.SESSION_START, offset=datetime.timedelta(),
                  repeat=datetime.timedelta(), weekdays=[1, 3], cheat=False)

    def __init__(self):
        bt.ind.SMA()
        self.add_timer(when=self.p.when, offset=self.p.offset, repeat=self.p.repeat,
                       weekdays=self.p.weekdays, cheat=self.p.cheat)
        self.order = None

    def prenext(self):
        self.next()

    def next(self):
        _, week, weekday = self.datetime.date().isocalendar()
        text = "{}, {}, Week {}, Day {}, C {}".format(len(self), self.datetime.datetime(), week,
                                                       weekday, self.data.close[0])
        print(text)

    def notify_timer(self, timer, when, *args, **kwargs):
        print("notify_timer tid {} when {} cheat {}".format(timer.p.tid, when, timer.p.cheat))
        if self.order is None:
            self.order = self.buy()

    def notify_order(self, order):
        if order.status == order.Completed:
            print("-- {} Buy Exec @ {}".format(self.data.datetime.date(), order.executed.price))
