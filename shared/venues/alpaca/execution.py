"""AlpacaBroker: a backtrader broker trading ONE Alpaca Broker API account (alpaca-py).

Each paper session trades its agent's own account (opened and funded by `accounts`) through the
Broker API's per-account endpoints (`submit_order_for_account`, `get_orders_for_account`, ...),
so two agents never share cash, positions or orders. Orders carry a client order id naming the
session (retries reuse it, so a lost answer never places a second order). Order updates come
from the account's trade events (`trade_events`, SSE, on its own thread, queued) and from
polling the open orders, fast while the stream is down and slowly otherwise; both feed the same
cumulative-fill logic, so an update seen twice executes once. Fills are executed into
backtrader's orders with their real size, price and commission (the scheme set on this broker:
Alpaca paper charges none). Cash and positions come from the account at start; a restart
adopts the open orders of its own session in its own account, and nothing else.
"""

from __future__ import annotations

import logging
import queue
import time
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, cast

import backtrader as bt
import requests
from alpaca.broker.client import BrokerClient
from alpaca.broker.models import Order as AlpacaOrder
from alpaca.broker.models import TradeAccount
from alpaca.common.exceptions import APIError

from shared.errors import FarmError
from shared.ports.broker import BrokerState, Holding, TradeFill
from shared.venues.alpaca.broker_api import broker_client
from shared.venues.alpaca.config import BrokerApiConfig, canonical_symbol
from shared.venues.alpaca.orders import (
    OPEN_STATUSES,
    Tracked,
    client_order_id,
    execute_into,
    fill_time,
    mark_price,
    new_run_tag,
    place_order,
)
from shared.venues.alpaca.resume import adopt_open_orders, open_positions
from shared.venues.alpaca.trade_events import TradeEventStream

log = logging.getLogger(__name__)
RECENT_TRADES = 20


class AlpacaBroker(bt.BrokerBase):
    """Paper broker over one Alpaca account; the same interface as `SimulatedBroker`."""

    def __init__(
        self,
        config: BrokerApiConfig,
        alpaca_account_id: str,
        session_id: str,
        *,
        account_id: str | None = None,
        datas: Iterable[bt.AbstractDataBase] = (),
        use_stream: bool = True,
        poll_s: float = 2.0,
        stream_poll_s: float = 30.0,
    ) -> None:
        super().__init__()
        self._config, self.alpaca_account_id, self.session_id = config, alpaca_account_id, session_id
        self.account_id = account_id or alpaca_account_id  # the platform's id of the account (its document)
        self._use_stream = use_stream
        self.poll_s, self.stream_poll_s = poll_s, stream_poll_s
        self.run_tag = new_run_tag()
        self.cash = self.alpaca_cash = 0.0
        self.commission_paid = 0.0
        self.positions: dict[bt.AbstractDataBase, bt.Position] = {}
        self.reattached: list[bt.Order] = []
        self._datas: dict[str, bt.AbstractDataBase] = {}
        self._by_client: dict[str, Tracked] = {}
        self._by_alpaca: dict[str, Tracked] = {}
        self._updates: queue.Queue[AlpacaOrder] = queue.Queue()
        self._notes: deque[bt.Order] = deque()
        self._fills: deque[TradeFill] = deque(maxlen=RECENT_TRADES)
        self.trades = 0
        self._client: BrokerClient | None = None
        self._stream: TradeEventStream | None = None
        self._last_poll = 0.0
        self._closed = False
        for data in datas:
            self.add_data(data)

    # --- set-up -----------------------------------------------------------------------------

    def add_data(self, data: bt.AbstractDataBase) -> None:
        """Make `data` the feed of its symbol (its `_name`), for fills and restarts."""
        self._datas[canonical_symbol(data._name)] = data

    @property
    def client(self) -> BrokerClient:
        """The Broker API client, created on first use (never at import or construction)."""
        if self._client is None:
            self._client = broker_client(self._config)
        return self._client

    def start(self) -> None:
        """Sync cash and positions from the account, adopt the session's open orders, open the stream."""
        super().start()
        self._sync_account(positions=True)
        self._reattach_open_orders()
        if self._use_stream:
            self._start_stream()

    def stop(self) -> None:
        """backtrader's end of run: release the stream."""
        self.shutdown()

    def shutdown(self) -> None:
        """Stop the trade-events stream and its thread; idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._stream is not None:
            self._stream.stop()

    def _start_stream(self) -> None:
        self._stream = TradeEventStream(self._config, self.alpaca_account_id, self._on_trade_event)
        self._stream.start()

    def _on_trade_event(self, event: dict[str, Any]) -> None:
        # Runs on the stream's thread: only hand over; backtrader objects change in next().
        self._updates.put(AlpacaOrder(**event["order"]))

    @property
    def stream_connected(self) -> bool:
        """Whether the trade-events stream is connected right now."""
        return bool(self._stream is not None and self._stream.connected)

    # --- backtrader's broker interface ------------------------------------------------------

    def getcash(self) -> float:
        """Cash as Alpaca reports it, less the commission this platform charges."""
        return self.cash

    def getvalue(self, datas: Iterable[bt.AbstractDataBase] | None = None) -> float:
        """Cash plus positions marked at their latest bar (their average price before one)."""
        chosen = list(datas) if datas else list(self.positions)
        value = sum(pos.size * mark_price(data, pos) for data, pos in self.positions.items() if data in chosen)
        return self.cash + value if not datas else value

    def getposition(self, data: bt.AbstractDataBase, clone: bool = True) -> bt.Position:
        """The position in `data`'s symbol."""
        pos = self.positions.setdefault(data, bt.Position())
        return pos.clone() if clone else pos

    def get_notification(self) -> bt.Order | None:
        """The next order notification for the strategy, or None."""
        return self._notes.popleft() if self._notes else None

    def notify(self, order: bt.Order) -> None:
        """Queue a snapshot of `order` for the strategy."""
        self._notes.append(order.clone())

    def buy(self, owner: Any, data: bt.AbstractDataBase, size: float, price: float | None = None,
            plimit: float | None = None, exectype: int | None = None, valid: Any = None, tradeid: int = 0,
            oco: Any = None, trailamount: float | None = None, trailpercent: float | None = None,
            **kwargs: Any) -> bt.Order:
        """Place a buy order at Alpaca."""
        return self._submit(bt.BuyOrder(owner=owner, data=data, size=size, price=price, pricelimit=plimit,
                                        exectype=exectype, valid=valid, tradeid=tradeid,
                                        trailamount=trailamount, trailpercent=trailpercent), kwargs)

    def sell(self, owner: Any, data: bt.AbstractDataBase, size: float, price: float | None = None,
             plimit: float | None = None, exectype: int | None = None, valid: Any = None, tradeid: int = 0,
             oco: Any = None, trailamount: float | None = None, trailpercent: float | None = None,
             **kwargs: Any) -> bt.Order:
        """Place a sell order at Alpaca."""
        return self._submit(bt.SellOrder(owner=owner, data=data, size=size, price=price, pricelimit=plimit,
                                         exectype=exectype, valid=valid, tradeid=tradeid,
                                         trailamount=trailamount, trailpercent=trailpercent), kwargs)

    def cancel(self, order: bt.Order) -> bt.Order:
        """Ask Alpaca to cancel; the `canceled` update (stream or poll) finishes the order."""
        tracked = next((t for t in self._by_client.values() if t.order is order), None)
        if tracked is None or tracked.alpaca_id is None or not order.alive():
            return order
        try:
            self.client.cancel_order_for_account_by_id(self.alpaca_account_id, tracked.alpaca_id)
        except APIError as exc:
            # 422: already filled or canceled; the update that says so is on its way.
            log.info("cancel of %s not accepted: %s", tracked.client_id, _api_message(exc))
        return order

    def next(self) -> None:
        """Apply queued stream updates, and poll open orders when it is time."""
        while True:
            try:
                self._apply(self._updates.get_nowait())
            except queue.Empty:
                break
        interval = self.stream_poll_s if self.stream_connected else self.poll_s
        if self._open() and time.monotonic() - self._last_poll >= interval:
            self.poll()

    # --- runtime extras (shared.ports.broker.TradingBroker) ---------------------------------

    def state(self) -> BrokerState:
        """Cash, value, positions and recent fills for the session document."""
        holdings = tuple(
            Holding(symbol, pos.size, pos.price)
            for symbol, data in sorted(self._datas.items())
            if (pos := self.positions.get(data)) is not None and pos.size
        )
        return BrokerState(cash=self.cash, value=self.getvalue(), positions=holdings,
                           recent_trades=tuple(self._fills), trades=self.trades,
                           extra={"provider": "alpaca", "stream_connected": self.stream_connected})

    def poll(self) -> None:
        """Fetch every open order from Alpaca and apply what changed."""
        self._last_poll = time.monotonic()
        for tracked in self._open():
            if tracked.alpaca_id is None:
                continue
            try:
                update = self.client.get_order_for_account_by_id(self.alpaca_account_id, tracked.alpaca_id)
                self._apply(cast(AlpacaOrder, update))
            except (APIError, requests.RequestException) as exc:
                log.warning("polling order %s failed: %s", tracked.client_id, _api_message(exc))

    # --- internals --------------------------------------------------------------------------

    def _open(self) -> list[Tracked]:
        return [t for t in self._by_client.values() if t.order.alive()]

    def _submit(self, order: bt.Order, info: dict[str, Any]) -> bt.Order:
        order.addinfo(**info)
        order.addcomminfo(self.getcommissioninfo(order.data))
        symbol = canonical_symbol(order.data._name)
        self._datas.setdefault(symbol, order.data)
        tracked = Tracked(order, symbol, client_order_id(self.session_id, self.run_tag, order.ref))
        self._by_client[tracked.client_id] = tracked
        order.submit(self)
        self.notify(order)
        try:
            placed = place_order(self.client, self.alpaca_account_id, tracked)
        except (FarmError, APIError) as exc:  # refused before reaching Alpaca, or by Alpaca
            log.warning("order %s rejected: %s", tracked.client_id, _api_message(exc))
            order.reject(self)
            self.notify(order)
            return order
        self._apply(placed)
        return order

    def _apply(self, update: AlpacaOrder) -> None:
        tracked = self._by_client.get(update.client_order_id)
        if tracked is None:
            return  # not placed by this runtime (or from before a restart and not ours)
        tracked.alpaca_id = str(update.id)
        self._by_alpaca[tracked.alpaca_id] = tracked
        order, status = tracked.order, str(update.status.value)
        if not order.alive():
            return
        if order.status == bt.Order.Submitted and status != "rejected":
            order.accept(self)
            self.notify(order)
        delta = tracked.delta(float(update.filled_qty or 0.0), float(update.filled_avg_price or 0.0))
        if delta is not None:
            self._execute(tracked, *delta)
        if status in OPEN_STATUSES or status == "filled":
            return
        if status == "rejected":
            order.reject(self)
        elif status == "expired":
            order.expire()
        else:  # canceled, done_for_day, replaced, stopped, suspended
            order.cancel()
        self.notify(order)

    def _execute(self, tracked: Tracked, qty: float, price: float) -> None:
        order, data = tracked.order, tracked.order.data
        size = qty if order.isbuy() else -qty
        commission = execute_into(order, self.getposition(data, clone=False), self.getcommissioninfo(data),
                                  size, price, fill_time(data))
        # Alpaca moved its cash by size * price already (seen at the next sync); mirror it now.
        self.commission_paid += commission
        self.alpaca_cash -= size * price
        self.cash = self.alpaca_cash - self.commission_paid
        self.trades += 1
        self._fills.append(TradeFill(tracked.symbol, "buy" if size > 0 else "sell", abs(size), price,
                                     commission, datetime.now(UTC).isoformat(), tracked.client_id))
        if order.executed.remsize:
            order.partial()
        else:
            order.completed()
        self.notify(order)

    def _sync_account(self, *, positions: bool) -> None:
        account = cast(TradeAccount, self.client.get_trade_account_by_id(self.alpaca_account_id))
        self.alpaca_cash = float(account.cash or 0.0)
        self.cash = self.alpaca_cash - self.commission_paid
        if positions:
            self.positions.update(open_positions(self.client, self.alpaca_account_id, self._datas))

    def _reattach_open_orders(self) -> None:
        adopted = adopt_open_orders(self.client, self.alpaca_account_id, self.session_id, self._datas,
                                    self.getcommissioninfo)
        for tracked in adopted:
            self._by_client[tracked.client_id] = tracked
            self._by_alpaca[tracked.alpaca_id or ""] = tracked
            tracked.order.submit(self)
            tracked.order.accept(self)
            self.notify(tracked.order)
            self.reattached.append(tracked.order)


def _api_message(exc: Exception) -> str:
    # APIError's text is Alpaca's JSON body ({"code","message"}); it never contains the keys.
    return str(exc)[:300]
