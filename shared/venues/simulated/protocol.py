"""What the simulated broker writes into its account document, and reads back on a restart.

The simulated venue has no wire: its "protocol" is the open orders and fills it keeps on the
account document (`shared.domain.broker_account`), in these shapes, so a restarted runtime
re-attaches its open orders and the account shows its fills.
"""

from __future__ import annotations

from typing import Any

import backtrader as bt

EXECTYPES = {"Market": bt.Order.Market, "Limit": bt.Order.Limit, "Stop": bt.Order.Stop}


def open_order_document(order: bt.Order, order_id: str, session_id: str | None) -> dict[str, Any]:
    """An open order as the account document keeps it: what is left to fill, and whose it is."""
    return {
        "order_id": order_id,
        "session_id": session_id,
        "symbol": order.data._name,
        "side": "buy" if order.isbuy() else "sell",
        "type": order.getordername(),
        "size": abs(float(order.executed.remsize)),
        "price": None if order.created.price is None else float(order.created.price),
    }


def position_documents(positions: dict[bt.AbstractDataBase, bt.Position]) -> dict[str, dict[str, float]]:
    """Positions by symbol as the account document keeps them."""
    return {data._name: {"size": float(p.size), "price": float(p.price)} for data, p in positions.items()}
