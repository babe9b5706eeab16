import backtrader as bt

from signals import breakout
from base import LoggingStrategy


class Agent(LoggingStrategy):
    params = (("lookback", 20),)

    def next(self):
        closes = list(self.data.close.get(size=self.p.lookback))
        if breakout(closes) and not self.position:
            self.log("breakout")
            self.buy()
        elif self.position and len(self) % 10 == 0:
            self.close()
