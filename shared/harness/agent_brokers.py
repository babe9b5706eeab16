"""The untrusted side's broker: the agent's own view of its account, never the platform's.

Every order the agent places and every cancel it asks for is reported to the host, which
executes them with the platform's broker; that execution alone is scored (docs/trust-boundary.md).

- `MirrorBroker` (backtests) is backtrader's own `BackBroker` with the run's cash and
  commission: for an honest agent it fills exactly as the host does, so the agent needs no
  round trip per fill. Whatever the agent does to it (`add_cash`, `setcash`, a new commission,
  a replaced `getvalue`) changes only what the agent believes.
- `ProxyBroker` (paper trading) holds the fills the host reports: the venue's (simulated or
  Alpaca) fills, executed into the agent's backtrader orders.
"""

from __future__ import annotations

from typing import Any

import backtrader as bt

from shared.harness.agent_feed import AgentChannel, ChannelFeed

BUY, SELL = 0, 1


def order_message(order: bt.Order, index: int, oco: bt.Order | None, price: Any, plimit: Any) -> list[Any]:
    """The wire form of a new order: what the host needs to place the same order.

    `price` and `plimit` are what the agent passed, not the order's `created` prices: a trailing
    stop's created price has its trail applied already, and the host's order applies it again.
    """
    parent = order.parent
    return [
        order.ref, BUY if order.isbuy() else SELL, index, abs(float(order.created.size)),
        _number(price), _number(plimit), order.exectype, order.valid,
        order.tradeid, None if parent is None else parent.ref, bool(order.transmit),
        None if oco is None else oco.ref, order.trailamount, order.trailpercent,
    ]


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


class MirrorBroker(bt.brokers.BackBroker):
    """backtrader's simulated broker, reporting each order and cancel to the host."""

    def __init__(self, channel: AgentChannel) -> None:
        super().__init__()
        self._channel = channel

    def buy(self, owner, data, size, price=None, plimit=None, exectype=None, valid=None, tradeid=0,
            oco=None, trailamount=None, trailpercent=None, parent=None, transmit=True, **kwargs):
        order = super().buy(owner, data, size, price=price, plimit=plimit, exectype=exectype, valid=valid,
                            tradeid=tradeid, oco=oco, trailamount=trailamount, trailpercent=trailpercent,
                            parent=parent, transmit=transmit, **kwargs)
        self._report(order, oco, price, plimit)
        return order

    def sell(self, owner, data, size, price=None, plimit=None, exectype=None, valid=None, tradeid=0,
             oco=None, trailamount=None, trailpercent=None, parent=None, transmit=True, **kwargs):
        order = super().sell(owner, data, size, price=price, plimit=plimit, exectype=exectype, valid=valid,
                             tradeid=tradeid, oco=oco, trailamount=trailamount, trailpercent=trailpercent,
                             parent=parent, transmit=transmit, **kwargs)
        self._report(order, oco, price, plimit)
        return order

    def cancel(self, order: bt.Order, bracket: bool = False) -> bool:
        """Cancel here and ask the host to cancel its copy."""
        self._channel.cancels.append(order.ref)
        return super().cancel(order, bracket=bracket)

    def _report(self, order: bt.Order | None, oco: bt.Order | None, price: Any, plimit: Any) -> None:
        if order is None:
            return
        data = order.data
        if isinstance(data, ChannelFeed):  # an order on any other line cannot reach the market
            self._channel.orders.append(order_message(order, data.p.index, oco, price, plimit))
