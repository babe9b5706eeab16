"""The untrusted side's broker in paper trading: the venue's fills, as the host reports them.

Orders the agent places are sent to the host, which places them with the platform's broker
(the simulated paper broker or Alpaca, for the session's own account). Each frame brings the
order events since the last one (accepted, partial and full fills with their price, cancels,
refusals) and the account's cash and value; they are executed into the agent's backtrader
orders here, so `notify_order`, `notify_trade` and `self.position` behave as in any broker.
"""

from __future__ import annotations

import math
from typing import Any

import backtrader as bt

from shared.harness.agent_brokers import order_message
from shared.harness.agent_feed import AgentChannel, ChannelFeed

# Event statuses, as backtrader numbers them (Order.Status).
ACCEPTED, PARTIAL, COMPLETED = bt.Order.Accepted, bt.Order.Partial, bt.Order.Completed
CANCELED, EXPIRED, MARGIN, REJECTED = bt.Order.Canceled, bt.Order.Expired, bt.Order.Margin, bt.Order.Rejected


class ProxyBroker(bt.BrokerBase):
    """A backtrader broker whose fills, cash and value come from the host."""

    def __init__(self, channel: AgentChannel) -> None:
        super().__init__()
        self._channel = channel
        self.cash = self.value = 0.0
        self.positions: dict[Any, bt.Position] = {}
        self._orders: dict[int, bt.Order] = {}
        self._notes: list[bt.Order] = []

    def start(self) -> None:
        """Begin with the account as the first frame will report it."""
        super().start()

    def getcash(self) -> float:
        """Cash as the venue last reported it."""
        return self.cash

    def getvalue(self, datas: Any = None) -> float:
        """Account value as the venue last reported it."""
        return self.value

    def getposition(self, data: Any) -> bt.Position:
        """The position the reported fills built."""
        position = self.positions.get(data)
        if position is None:
            position = self.positions[data] = bt.Position()
        return position

    def get_notification(self) -> bt.Order | None:
        """The next order notification for the strategy, or None."""
        return self._notes.pop(0) if self._notes else None

    def buy(self, owner, data, size, price=None, plimit=None, exectype=None, valid=None, tradeid=0,
            oco=None, trailamount=None, trailpercent=None, parent=None, transmit=True, **kwargs):
        order = bt.BuyOrder(owner=owner, data=data, size=size, price=price, pricelimit=plimit,
                            exectype=exectype, valid=valid, tradeid=tradeid, trailamount=trailamount,
                            trailpercent=trailpercent, parent=parent, transmit=transmit)
        return self._submit(order, oco, price, plimit)

    def sell(self, owner, data, size, price=None, plimit=None, exectype=None, valid=None, tradeid=0,
             oco=None, trailamount=None, trailpercent=None, parent=None, transmit=True, **kwargs):
        order = bt.SellOrder(owner=owner, data=data, size=size, price=price, pricelimit=plimit,
                             exectype=exectype, valid=valid, tradeid=tradeid, trailamount=trailamount,
                             trailpercent=trailpercent, parent=parent, transmit=transmit)
        return self._submit(order, oco, price, plimit)

    def cancel(self, order: bt.Order) -> bool:
        """Ask the host to cancel; the venue's answer arrives as an event."""
        if order.ref not in self._orders:
            return False
        self._channel.cancels.append(order.ref)
        return True

    def next(self) -> None:
        """Apply the frame's account and order events (cerebro calls this before `next`)."""
        channel = self._channel
        if channel.account:
            self.cash, self.value = float(channel.account[0]), float(channel.account[1])
        events, channel.events = channel.events or [], []
        for event in events:
            self._apply(*event)

    def _submit(self, order: bt.Order, oco: bt.Order | None, price: Any, plimit: Any) -> bt.Order:
        order.submit(self)
        self._notes.append(order.clone())
        data = order.data
        if isinstance(data, ChannelFeed):
            self._orders[order.ref] = order
            self._channel.orders.append(order_message(order, data.p.index, oco, price, plimit))
        else:  # a line the agent made itself is no market
            order.reject(self)
            self._notes.append(order.clone())
        return order

    def _apply(self, ref: int, status: int, size: float, price: float, commission: float, stamp: float) -> None:
        order = self._orders.get(ref)
        if order is None:
            return
        if size and math.isfinite(size) and math.isfinite(price):
            self._execute(order, size, price, commission, stamp)
        if status == ACCEPTED and order.status < ACCEPTED:
            order.accept(self)
        elif status == COMPLETED:
            order.completed()
        elif status == PARTIAL:
            order.partial()
        elif status == CANCELED:
            order.cancel()
        elif status == EXPIRED:
            order.expire()
        elif status == MARGIN:
            order.margin()
        elif status == REJECTED:
            order.reject(self)
        else:
            return
        self._notes.append(order.clone())
        if not order.alive():
            self._orders.pop(ref, None)

    def _execute(self, order: bt.Order, size: float, price: float, commission: float, stamp: float) -> None:
        position = self.getposition(order.data)
        before = position.price
        psize, pprice, opened, closed = position.update(size, price)
        closedcomm = commission * abs(closed) / abs(size) if size else 0.0
        order.execute(stamp, size, price, closed, abs(closed) * before, closedcomm,
                      opened, abs(opened) * price, commission - closedcomm, 0.0,
                      -closed * (price - before), psize, pprice)
        order.addcomminfo(self.getcommissioninfo(order.data))
