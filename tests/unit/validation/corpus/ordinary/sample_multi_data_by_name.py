"""Rank several symbols, reach each by name and log through its `_name` (multi-data idiom)."""
import backtrader as bt


class Agent(bt.Strategy):
    params = dict(period=20, names=("AAPL", "MSFT"))

    def __init__(self):
        self.mom = {d._name: bt.ind.Momentum(d.close, period=self.p.period) for d in self.datas}

    def next(self):
        for name in self.p.names:
            data = self.getdatabyname(name) if name in self.mom else None
            if data is None:
                continue
            position = self.getposition(data)
            if self.mom[name][0] > 0 and not position:
                self.buy(data=data)
            elif self.mom[name][0] < 0 and position:
                self.close(data=data)
        for i, d in enumerate(self.datas):
            dt, dn = self.datetime.date(), d._name
            pos = self.getposition(d).size
            if pos:
                print("{} {} {} Position {}".format(dt, i, dn, pos))
