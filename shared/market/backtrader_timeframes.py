"""What backtrader calls each `Timeframe`: one table for the backtest loader, the agent's feeds,
the live feeds and FMEL's labels.

Kept apart from `shared.market.loader` because the sandboxed agent process and the runtime's
feeds need it without pandas (importing pandas costs the agent ~0.7 s at every start).
"""

from __future__ import annotations

import backtrader as bt

from shared.domain.timeframe import Timeframe

# ("minutes", n) / ("days", 1) in backtrader's own constants.
_UNITS = {"minutes": bt.TimeFrame.Minutes, "days": bt.TimeFrame.Days}
BACKTRADER_TIMEFRAMES: dict[Timeframe, tuple[int, int]] = {
    tf: (_UNITS[tf.unit_and_compression[0]], tf.unit_and_compression[1]) for tf in Timeframe
}
_BY_BACKTRADER = {pair: tf for tf, pair in BACKTRADER_TIMEFRAMES.items()}


def backtrader_timeframe(value: object) -> tuple[int, int]:
    """(backtrader timeframe, compression) of a timeframe; InvalidInputError for an unknown one."""
    return BACKTRADER_TIMEFRAMES[Timeframe.parse(value)]


def timeframe_of(bt_timeframe: int, compression: int) -> Timeframe | None:
    """The platform's timeframe of a backtrader feed, None when it has no such bar size."""
    return _BY_BACKTRADER.get((bt_timeframe, compression))
