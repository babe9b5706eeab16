"""SimulatedBroker: a backtrader broker that fills orders against the bus's bars.

An order placed on bar t is tried from bar t+1 on, by the rules of `fills` (open, limits,
stops, slippage, volume participation, cash), so a big order fills partially over several bars;
commission is a fraction of the traded value. Every fill is executed
into backtrader's order (`order.execute` with the real size, price and commission) and the
account (positions, recent fills, open orders) is settled into its document, so a restart
resumes: open orders are re-attached, sized to what remains, and go on filling (as
`AlpacaBroker` adopts its open orders from Alpaca).

Cash is settled as an increment: each settlement adds what the fills since the last one moved
to the cash it reads in the same transaction, and takes that sum as the broker's cash. So
money the owner adds while the session runs (`SimulatedAccounts.fund`) is kept, and reaches
the agent at the next settlement or `refresh_s` later, whichever comes first.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from datetime import UTC
from typing import Any

import backtrader as bt

from shared.domain.broker_account import RECENT_TRADES
from shared.domain.clock import iso
from shared.domain.unit_of_work import UnitOfWork, read_only, run_in_transaction
from shared.fmel.analyzer import num_to_utc
from shared.ports.broker import BrokerState, Holding, TradeFill
from shared.ports.documents import DocumentStore
from shared.venues.adoption import adopted_order
from shared.venues.simulated.config import FillModel
from shared.venues.simulated.fills import fill_price, fill_size
from shared.venues.simulated.protocol import EXECTYPES, open_order_document, position_documents

log = logging.getLogger(__name__)


class SimulatedBroker(bt.BrokerBase):
    """Paper broker for the embedded default; same interface as `AlpacaBroker`."""

    params = (
        ("slippage", FillModel.slippage),  # fraction of the price, against the trader
        ("commission", FillModel.commission),  # fraction of the traded value
        ("participation", FillModel.participation),  # most of a bar's volume one order may take
        ("refresh_s", 5.0),  # how often an idle broker reads fundings made during the session
    )

    def __init__(
        self, documents: DocumentStore, account_id: str, datas: Sequence[bt.AbstractDataBase] = (), *,
        session_id: str | None = None, **params: float,
    ) -> None:
        # `params` (slippage, commission, ...) are taken by backtrader's metaclass before this runs;
        # they are declared here so that callers type-check.
        super().__init__()
        self.documents = documents
        self.account_id = account_id
        self.session_id = session_id  # None: any open order of the account is this run's (a replay)
        self.reattached: list[bt.Order] = []  # open orders of an earlier run, adopted at start
        self._datas = {data._name: data for data in datas}
        self._order_ids: dict[int, str] = {}  # order ref -> the id it was placed under
        self._unattached: list[dict[str, Any]] = []  # saved open orders with no feed in this run
        self.cash = self.startingcash = 0.0
        self._unsettled = 0.0  # cash the fills moved since the last settlement
        self._last_settled = 0.0  # time.monotonic() of the last read or settlement
        self.positions: dict[bt.AbstractDataBase, bt.Position] = {}
        self._saved: dict[str, dict[str, float]] = {}
        self._open: list[bt.Order] = []
        self._seen: dict[int, int] = {}  # order ref -> len(data) when last considered
        self._notes: list[bt.Order] = []
        self._fills: list[dict[str, Any]] = []
        self._trades = 0
        self._lock = threading.Lock()  # state() is read from the heartbeat thread

    # -- backtrader's broker interface -----------------------------------------------------

    def start(self) -> None:
        """Load cash and positions from the account document."""
        super().start()
        account = read_only(self.documents).accounts.get(self.account_id)
        if account is None:
            raise RuntimeError(f"broker account {self.account_id} does not exist")
        self.cash = self.startingcash = account.cash
        self._last_settled = time.monotonic()
        self._saved = {s: dict(p) for s, p in account.positions.items() if p.get("size")}
        self._fills = list(account.recent_trades)
        self._trades = account.trades
        self.setcommission(commission=self.p.commission)
        for saved in account.open_orders:
            if self.session_id is not None and saved.get("session_id") not in (None, self.session_id):
                # Nothing fills an order whose session's runtime is gone: it ended with that session
                # (and is left out of the account at the next settlement), as on Alpaca a new
                # session adopts none of an earlier session's orders.
                log.info("open order %s of session %s ended with it", saved["order_id"], saved["session_id"])
                continue
            self._reattach(saved)

    def stop(self) -> None:
        """Persist the account when the run ends."""
        self.shutdown()

    def getcash(self) -> float:
        """Cash in the account."""
        return self.cash

    def getvalue(self, datas: Any = None) -> float:
        """Cash plus positions marked at each feed's latest close."""
        value = self.cash
        for data, pos in self.positions.items():
            if pos.size and (datas is None or data in datas):
                value += pos.size * _mark(data, pos)
        return value

    def getposition(self, data: bt.AbstractDataBase) -> bt.Position:
        """The position in `data`, restored from the account on first use."""
        pos = self.positions.get(data)
        if pos is None:
            saved = self._saved.pop(data._name, None)
            pos = bt.Position(saved["size"], saved["price"]) if saved else bt.Position()
            self.positions[data] = pos
        return pos

    def buy(self, owner: Any, data: bt.AbstractDataBase, size: float, price: float | None = None,
            plimit: float | None = None, exectype: int | None = None, valid: Any = None, tradeid: int = 0,
            **kwargs: Any) -> bt.Order:
        """Place a buy order (filled from the next bar on)."""
        return self.submit(bt.BuyOrder(owner=owner, data=data, size=size, price=price, pricelimit=plimit,
                                       exectype=exectype, valid=valid, tradeid=tradeid))

    def sell(self, owner: Any, data: bt.AbstractDataBase, size: float, price: float | None = None,
             plimit: float | None = None, exectype: int | None = None, valid: Any = None, tradeid: int = 0,
             **kwargs: Any) -> bt.Order:
        """Place a sell order (filled from the next bar on)."""
        return self.submit(bt.SellOrder(owner=owner, data=data, size=size, price=price, pricelimit=plimit,
                                        exectype=exectype, valid=valid, tradeid=tradeid))

    def submit(self, order: bt.Order) -> bt.Order:
        """Accept an order; it can fill from the next bar of its feed on."""
        self.getposition(order.data)
        order.submit(self)
        self._notify(order)
        if order.exectype not in (bt.Order.Market, bt.Order.Limit, bt.Order.Stop):
            order.reject(self)
            self._notify(order)
            return order
        order.accept(self)
        self._notify(order)
        self._open.append(order)
        self._seen[order.ref] = len(order.data)
        self._persist()  # an open order survives a restart
        return order

    def cancel(self, order: bt.Order) -> bool:
        """Cancel an open order; False when it is no longer open."""
        if order not in self._open:
            return False
        self._open.remove(order)
        order.cancel()
        self._notify(order)
        self._persist()
        return True

    def next(self) -> None:
        """Try every open order against the new bar of its feed (called by cerebro each loop)."""
        filled = False
        for order in list(self._open):
            data = order.data
            if len(data) <= self._seen.get(order.ref, 0):
                continue  # no new bar since the order was placed or last tried
            self._seen[order.ref] = len(data)
            filled = self._try_fill(order) or filled
        if filled or time.monotonic() - self._last_settled >= self.p.refresh_s:
            self._persist()

    def get_notification(self) -> bt.Order | None:
        """The next order notification for the strategy, or None."""
        return self._notes.pop(0) if self._notes else None

    def get_orders_open(self, safe: bool = False) -> list[bt.Order]:
        """Orders not yet completed, cancelled or rejected."""
        return [o.clone() for o in self._open] if safe else list(self._open)

    # -- TradingBroker --------------------------------------------------------------------

    def state(self) -> BrokerState:
        """Cash, value, positions and the latest fills."""
        with self._lock:
            positions = tuple(
                Holding(d._name, float(p.size), float(p.price)) for d, p in self.positions.items() if p.size
            )
            positions += tuple(Holding(s, float(p["size"]), float(p["price"])) for s, p in self._saved.items())
            fills = tuple(TradeFill(**f) for f in self._fills)
            return BrokerState(self.cash, self.getvalue(), positions, fills, self._trades)

    def shutdown(self) -> None:
        """Write the account document (cash, positions, fills)."""
        self._persist()

    # -- filling ----------------------------------------------------------------------------

    def _try_fill(self, order: bt.Order) -> bool:
        data = order.data
        price = fill_price(order, data.open[0], data.high[0], data.low[0], self.p.slippage)
        if price is None:
            return False
        size = fill_size(order, price, float(data.volume[0]), self.cash, self.p.participation, self.p.commission)
        if size <= 0:
            if order.isbuy() and self.cash < price:
                self._finish(order, "margin")
            return False
        self._execute(order, size if order.isbuy() else -size, price)
        return True

    def _execute(self, order: bt.Order, size: float, price: float) -> None:
        data = order.data
        with self._lock:
            position = self.getposition(data)
            pprice_orig = position.price
            psize, pprice, opened, closed = position.update(size, price)
            commission = abs(size) * price * self.p.commission
            closedcomm = abs(closed) * price * self.p.commission
            openedcomm = commission - closedcomm
            pnl = -closed * (price - pprice_orig)
            self.cash -= size * price + commission
            self._unsettled -= size * price + commission
            order.execute(
                data.datetime[0], size, price,
                closed, abs(closed) * pprice_orig, closedcomm,
                opened, abs(opened) * price, openedcomm,
                0.0, pnl, psize, pprice,
            )
            order.addcomminfo(self.getcommissioninfo(data))
            self._trades += 1
            fill = TradeFill(
                data._name, "buy" if size > 0 else "sell", abs(float(size)), float(price), float(commission),
                iso(num_to_utc(data.datetime[0]).astimezone(UTC)), self._order_id(order),
            )
            self._fills = [*self._fills, vars(fill)][-RECENT_TRADES:]
        if order.executed.remsize:
            order.partial()
        else:
            order.completed()
            self._open.remove(order)
        self._notify(order)

    def _finish(self, order: bt.Order, how: str) -> None:
        self._open.remove(order)
        order.margin() if how == "margin" else order.reject(self)
        self._notify(order)
        self._persist()

    def _notify(self, order: bt.Order) -> None:
        self._notes.append(order.clone())

    # -- restarts ---------------------------------------------------------------------------

    def _reattach(self, saved: dict[str, Any]) -> None:
        data = self._datas.get(saved["symbol"])
        if data is None:
            # Kept in the document as it was: a later run with that feed picks it up.
            log.warning("open order %s for %s has no data feed in this run; left open",
                        saved["order_id"], saved["symbol"])
            self._unattached.append(saved)
            return
        order = adopted_order(saved["side"], data, float(saved["size"]), saved.get("price"), EXECTYPES[saved["type"]])
        order.addcomminfo(self.getcommissioninfo(data))
        self._order_ids[order.ref] = saved["order_id"]
        order.submit(self)
        order.accept(self)
        self._notify(order)
        self._open.append(order)
        self._seen[order.ref] = len(data)
        self.reattached.append(order)

    def _order_id(self, order: bt.Order) -> str:
        return self._order_ids.get(order.ref) or str(order.ref)

    def _persist(self) -> None:
        """Settle the fills' cash and the book into the account; take the cash it now holds."""
        with self._lock:
            delta = self._unsettled
            positions = {s: dict(p) for s, p in self._saved.items()} | position_documents(self.positions)
            fills, trades = list(self._fills), self._trades
            open_orders = [*self._unattached,
                           *(open_order_document(o, self._order_id(o), self.session_id) for o in self._open)]

        def settle(uow: UnitOfWork) -> float:
            account = uow.accounts.require(self.account_id)
            account.settle_trading(delta, positions=positions, recent_trades=fills, trades=trades,
                                   open_orders=open_orders)
            uow.accounts.save(account)
            return account.cash

        try:
            cash = run_in_transaction(self.documents, settle)
        except Exception:
            log.exception("could not settle broker account %s", self.account_id)
            return
        with self._lock:
            self._unsettled -= delta
            # The stored cash includes fundings made meanwhile; fills after the read are not in it.
            self.cash = cash + self._unsettled
            self._last_settled = time.monotonic()


def _mark(data: bt.AbstractDataBase, pos: bt.Position) -> float:
    close = data.lines.close
    if not len(close.array):
        return pos.price
    mark = close.array[min(close.idx, len(close.array) - 1)]
    return pos.price if math.isnan(mark) else mark  # after a stop the line may hold a NaN slot
