"""An analyzer base for analyzers that need none of backtrader's per-bar calls."""

from __future__ import annotations

import backtrader as bt


class QuietAnalyzer(bt.Analyzer):
    """Skip the base class's per-bar dispatch: backtrader calls these on every analyzer every bar,
    and an analyzer with no children that uses none of them saves that cost on every bar."""

    def _next(self) -> None:
        pass

    def _prenext(self) -> None:
        pass

    def _nextstart(self) -> None:
        pass

    def _notify_cashvalue(self, cash: float, value: float) -> None:
        pass

    def _notify_fund(self, cash: float, value: float, fundvalue: float, shares: float) -> None:
        pass
