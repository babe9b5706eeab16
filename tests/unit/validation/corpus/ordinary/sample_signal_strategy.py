"""Signals instead of next() (after samples/signals-strategy)."""
import backtrader as bt

MAINSIGNALS = dict(longshort=bt.SIGNAL_LONGSHORT, longonly=bt.SIGNAL_LONG, shortonly=bt.SIGNAL_SHORT)


class SMACloseSignal(bt.Indicator):
    lines = ("signal",)
    params = (("period", 30),)

    def __init__(self):
        self.lines.signal = self.data - bt.indicators.SMA(period=self.p.period)


class SMAExitSignal(bt.Indicator):
    lines = ("signal",)
    params = (("p1", 5), ("p2", 30))

    def __init__(self):
        sma1 = bt.indicators.SMA(period=self.p.p1)
        sma2 = bt.indicators.SMA(period=self.p.p2)
        self.lines.signal = sma1 - sma2


class Agent(bt.SignalStrategy):
    params = (("signal", "longonly"),)

    def __init__(self):
        self.signal_add(MAINSIGNALS[self.p.signal], SMACloseSignal(period=30))
        self.signal_add(bt.SIGNAL_LONGEXIT, SMAExitSignal(p1=5, p2=30))
