from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Optional

import backtrader as bt


class Regime(Enum):
    BULL = "bull"
    BEAR = "bear"


@dataclass(frozen=True)
class Risk:
    max_position: int = 100
    stop_pct: Decimal = Decimal("0.05")


class Agent(bt.Strategy):
    def __init__(self):
        super().__init__()
        self.risk = Risk()
        self.atr = bt.indicators.ATR(self.data, period=14)
        self.regime: Optional[Regime] = None
        self.entry = None

    def next(self):
        self.regime = Regime.BULL if self.data.close[0] > self.data.close[-20] else Regime.BEAR
        if self.regime is Regime.BULL and not self.position:
            self.entry = self.data.close[0]
            self.buy(size=self.risk.max_position)
        elif self.position and self.data.close[0] < self.entry * (1 - float(self.risk.stop_pct)):
            self.close()
