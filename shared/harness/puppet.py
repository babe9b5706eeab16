"""The trusted side's stand-in for the agent's strategy: it places what the agent decided.

`AgentProxy` runs in the host's cerebro, over the host's feeds and the platform's broker. At
each timestamp it takes the agent's reply for that timestamp from its link and places the
orders and cancels it reports, after checking every field; the broker's fills, the portfolio,
the equity curve, trades, metrics and the FMEL record are then the host's own. An agent that
stops replying (it stopped itself, or finished early) simply places nothing more: the run goes
on to its end, so a score always covers the whole window.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import backtrader as bt

MAX_ORDERS_PER_STEP = 256
MAX_SIZE = 1e12
EXECTYPES = range(bt.Order.StopTrailLimit + 1)  # Market .. StopTrailLimit; never Historical


class AgentFailed(Exception):
    """The agent's process failed: its own error (traceback) or a broken channel."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AgentLink(Protocol):
    """Where an `AgentProxy` gets the agent's reply for the timestamp it is at."""

    def reply(self, proxy: AgentProxy) -> list[Any] | None:
        """The `step` reply for the current timestamp; None once the agent has stopped deciding."""
        ...


class AgentProxy(bt.Strategy):
    """Place the agent's orders in the host's run, one timestamp at a time."""

    params = (("link", None),)

    def __init__(self) -> None:
        self.agent_reply: list[Any] | None = None  # the FMEL analyzer reads the decision from it
        self.step_number = -1
        self.violations = 0  # reported orders that could not be true or valid
        self._by_agent_ref: dict[int, bt.Order] = {}
        self._agent_refs: dict[int, int] = {}  # host order ref -> the agent's

    def prenext(self) -> None:
        """Every timestamp is a step, warm-up or not: the agent has its own warm-up."""
        self._step()

    def nextstart(self) -> None:
        """As `prenext`."""
        self._step()

    def next(self) -> None:
        """As `prenext`."""
        self._step()

    def notify_order(self, order: bt.Order) -> None:
        """Tell the agent what became of its order (paper trading: the venue's answer)."""
        report = getattr(self.p.link, "order_event", None)
        agent_ref = self._agent_refs.get(order.ref)
        if report is not None and agent_ref is not None and order.status != order.Submitted:
            report(order, agent_ref)

    def _step(self) -> None:
        self.step_number += 1
        reply = self.agent_reply = self.p.link.reply(self)
        if reply is None:
            return
        _, _, _, orders, cancels, *_ = reply
        # Orders first, then cancels: an agent may cancel in the same step an order it just placed.
        if isinstance(orders, list):
            for entry in orders[:MAX_ORDERS_PER_STEP]:
                if not self._place(entry):
                    self.violations += 1
            self.violations += max(0, len(orders) - MAX_ORDERS_PER_STEP)
        if isinstance(cancels, list):
            for ref in cancels[:MAX_ORDERS_PER_STEP]:
                order = self._by_agent_ref.get(ref) if type(ref) is int else None
                if order is None:
                    self.violations += 1
                elif order.alive():
                    self.cancel(order)

    def _place(self, entry: Any) -> bool:
        try:
            (ref, side, index, size, price, plimit, exectype, valid, tradeid, parent_ref, transmit, oco_ref,
             trailamount, trailpercent) = entry
        except (TypeError, ValueError):
            return False
        if type(ref) is not int or ref in self._by_agent_ref or side not in (0, 1):
            return False
        if type(index) is not int or not 0 <= index < len(self.datas) or exectype not in EXECTYPES:
            return False
        if not _finite(size) or not 0 < size <= MAX_SIZE or type(tradeid) is not int:
            return False
        if not all(v is None or _finite(v) for v in (price, plimit, valid, trailamount, trailpercent)):
            return False
        parent = self._by_agent_ref.get(parent_ref) if parent_ref is not None else None
        oco = self._by_agent_ref.get(oco_ref) if oco_ref is not None else None
        if (parent_ref is not None and parent is None) or (oco_ref is not None and oco is None):
            return False
        kwargs: dict[str, Any] = {
            "data": self.datas[index], "size": size, "price": price, "plimit": plimit, "exectype": exectype,
            "valid": valid, "tradeid": tradeid, "trailamount": trailamount, "trailpercent": trailpercent,
            "parent": parent, "transmit": bool(transmit),
        }
        if oco is not None:
            kwargs["oco"] = oco
        order = (self.buy if side == 0 else self.sell)(**kwargs)
        if order is not None:
            self._by_agent_ref[ref] = order
            self._agent_refs[order.ref] = ref
        return True


def _finite(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)
