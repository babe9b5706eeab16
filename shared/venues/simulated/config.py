"""The simulated venue's configuration: how its fills are priced and sized.

The runtime's `RuntimeOptions` and the reconciliation replay pass these through, so a session
and its replay fill alike. Accounts, market data and orders need no keys or URLs here: the
account lives in the documents port and bars come from the bus (fed locally by the replay
server in `market_data`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class FillModel:
    """Slippage and commission as fractions, and the share of a bar's volume one order may take."""

    slippage: float = 0.0005  # of the price, against the trader
    commission: float = 0.0  # of the traded value
    participation: float = 1.0  # of the bar's volume
