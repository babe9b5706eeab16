"""What the backtest and FMEL benchmarks share: one strategy over synthetic bars, one FMEL sink."""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Any

import backtrader as bt
import pandas as pd

from shared.market.bars import bar_to_row
from shared.market.loader import _frame
from shared.market.synthetic import generate_bars


class SmaCross(bt.Strategy):
    """Buy on the 10/30 SMA cross up, close on the cross down."""

    def __init__(self) -> None:
        self.cross = {d: bt.ind.CrossOver(bt.ind.SMA(d, period=10), bt.ind.SMA(d, period=30)) for d in self.datas}

    def next(self) -> None:
        for data in self.datas:
            held = self.getposition(data).size
            if not held and self.cross[data][0] > 0:
                self.buy(data=data, size=10)
            elif held and self.cross[data][0] < 0:
                self.close(data=data)


def frames(symbols: int, timeframe: str, start: datetime, end: datetime) -> dict[str, pd.DataFrame]:
    """Synthetic bars for `symbols` symbols, as the loader hands them to backtrader."""
    bars = generate_bars([f"S{i:02d}" for i in range(symbols)], start, end, timeframe)
    return {s: _frame([bar_to_row(b) for b in bs]) for s, bs in bars.items()}


class RecentRows:
    """An in-memory FMEL sink that keeps only the latest rows, as the recorder's drained buffer does.

    Keeping every row of a 100k-bar run alive would measure Python's garbage collector walking
    them (and freeing them in whichever later run collects them), not FMEL.
    """

    def __init__(self, keep: int = 1000) -> None:
        self.rows: deque[dict[str, Any]] = deque(maxlen=keep)
        self.count = 0

    def add(self, row: dict[str, Any]) -> None:
        """Keep `row`, letting the oldest go once `keep` are held."""
        self.rows.append(row)
        self.count += 1
