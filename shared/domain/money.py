"""Amounts of cash the platform assumes when nobody says otherwise."""

from __future__ import annotations

# A backtest's starting cash, a paper account's first funding and `farm trade --fund`: one
# figure so that a backtest and the paper session it qualifies start from the same capital.
DEFAULT_CASH = 25_000.0
