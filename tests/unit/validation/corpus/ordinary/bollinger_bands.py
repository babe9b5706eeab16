from __future__ import annotations

import backtrader


class Agent(backtrader.Strategy):
    """Buy below the lower band, sell above the upper band."""

    params = (("period", 20), ("devfactor", 2.0))

    def __init__(self) -> None:
        self.boll = backtrader.indicators.BollingerBands(
            period=self.p.period, devfactor=self.p.devfactor
        )

    def next(self) -> None:
        price = self.data.close[0]
        if not self.position and price < self.boll.lines.bot[0]:
            self.buy()
        elif self.position and price > self.boll.lines.top[0]:
            self.sell()
