"""Market data basics: the bar type and its hash, the default universe, the synthetic market, loading."""

from shared.market.bars import Bar, bar_hash, bar_to_row, row_to_bar
from shared.market.universe import DEFAULT_SYMBOLS, DEFAULT_TIMEFRAME, default_window

__all__ = [
    "DEFAULT_SYMBOLS",
    "DEFAULT_TIMEFRAME",
    "Bar",
    "bar_hash",
    "bar_to_row",
    "default_window",
    "row_to_bar",
]
