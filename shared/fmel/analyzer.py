"""The FMEL analyzer: one `fmel.decisions` row per decision point of a backtrader strategy.

On `start` it installs an `AccessTracker` and wraps the strategy's decision methods (`prenext`,
`nextstart`, `next`) and order methods (`buy`, `sell`, which `close` and `order_target_*` use).
A decision's row is held until the next decision begins (or the run stops) so order
notifications that arrive in between (fills, rejections) update its actions; it is then passed
to the `sink` (e.g. `FmelRecorder.add`). Works bar by bar, so live feeds and `runonce=False` are
fine.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import backtrader as bt

from shared.errors import InvalidInputError
from shared.fmel.record import action_for, decision_id
from shared.fmel.tracker import AccessTracker, summarise

Row = dict[str, Any]
_DAY_ONE = datetime(1, 1, 1, tzinfo=UTC)  # backtrader's float date 1.0


def num_to_utc(num: float) -> datetime:
    """Convert a backtrader float date to an aware UTC datetime (to the millisecond), cheaply."""
    return _DAY_ONE + timedelta(milliseconds=round((num - 1.0) * 86_400_000.0))


class FmelAnalyzer(bt.Analyzer):
    """Record every decision of the strategy it is attached to (`cerebro.addanalyzer`)."""

    params = (
        ("agent_id", "agent"),
        ("user_id", "user"),
        ("session_id", "session"),
        ("mode", "backtest"),
        ("start_point", 1),  # a restarted live runtime continues its numbering
        ("sink", None),  # Callable[[Row], None]; None keeps rows in memory only
        ("keep_rows", False),
        ("expand_indicators", False),  # spell indicator reads out bar by bar (exact, much bigger)
    )

    def start(self) -> None:
        """Instrument the strategy before its first decision."""
        if self.p.mode not in ("backtest", "paper"):
            raise InvalidInputError(f"FMEL mode must be 'backtest' or 'paper', got {self.p.mode!r}")
        self.rows: list[Row] = []
        self.decisions = 0
        self.traded = 0
        self._sink: Callable[[Row], None] | None = self.p.sink
        self._point = int(self.p.start_point) - 1
        self._inside = False
        self._placed: list[bt.Order] = []
        self._pending: Row | None = None
        self._open_actions: dict[int, Row] = {}
        self._tracker = AccessTracker(self.strategy)
        self._tracker.install()
        strategy = self.strategy
        for stage in ("prenext", "nextstart", "next"):
            setattr(strategy, stage, self._decision(stage, getattr(strategy, stage)))
        for name in ("buy", "sell"):
            setattr(strategy, name, self._placing(getattr(strategy, name)))

    def stop(self) -> None:
        """Emit the last decision and restore the strategy's classes and methods."""
        self._emit()
        self._tracker.uninstall()
        for name in ("prenext", "nextstart", "next", "buy", "sell"):
            self.strategy.__dict__.pop(name, None)

    def notify_order(self, order: bt.Order) -> None:
        """Apply a status change or fill to the action of the held decision that placed it."""
        action = self._open_actions.get(order.ref)
        if action is None:
            return
        action["status"] = order.getstatusname()
        if order.executed.size:
            action["size"] = abs(float(order.executed.size))
            action["price"] = float(order.executed.price)

    def get_analysis(self) -> dict[str, Any]:
        """Return counts, the last decision point, and the rows when `keep_rows` is set."""
        return {
            "decisions": self.decisions,
            "traded": self.traded,
            "last_point": self._point,
            "rows": self.rows,
        }

    def _decision(self, stage: str, method: Callable[[], Any]) -> Callable[[], Any]:
        def decide(*args: Any, **kwargs: Any) -> Any:
            if self._inside:  # nextstart calls next by default: one decision, not two
                return method(*args, **kwargs)
            self._emit()
            self._inside = True
            self._placed = []
            reads = self._tracker.start()
            try:
                return method(*args, **kwargs)
            finally:
                self._tracker.stop()
                self._inside = False
                self._pending = self._build(stage, reads)

        return decide

    def _placing(self, method: Callable[..., bt.Order | None]) -> Callable[..., bt.Order | None]:
        def place(*args: Any, **kwargs: Any) -> bt.Order | None:
            order = method(*args, **kwargs)
            if self._inside and order is not None:
                self._placed.append(order)
            return order

        return place

    def _build(self, stage: str, reads: list) -> Row:
        self._point += 1
        strategy, broker = self.strategy, self.strategy.broker
        accessed, count = summarise(reads, expand=self.p.expand_indicators)
        actions = [self._action(seq, order) for seq, order in enumerate(self._placed, start=1)]
        positions = []
        for data in strategy.datas:
            position = broker.getposition(data)
            if position.size:
                close = data.lines.close
                mark = close.array[close.idx] if len(close.array) else position.price
                positions.append(
                    {
                        "symbol": data._name,
                        "size": float(position.size),
                        "price": float(position.price),
                        "value": float(position.size * mark),
                    }
                )
        dt_line = strategy.lines.datetime
        bar_time = num_to_utc(dt_line.array[dt_line.idx])
        session = self.p.session_id
        return {
            "decision_id": decision_id(session, self._point),
            "agent_id": self.p.agent_id,
            "user_id": self.p.user_id,
            "session_id": session,
            "mode": self.p.mode,
            "decision_point": self._point,
            "bar_time": bar_time,
            "recorded_at": datetime.now(UTC),
            "stage": stage,
            "action": action_for(stage, len(actions)),
            "actions": actions,
            "data_accessed": accessed,
            "access_count": count,
            "portfolio_value": float(broker.getvalue()),
            "cash": float(broker.getcash()),
            "positions": positions,
        }

    def _action(self, seq: int, order: bt.Order) -> Row:
        price = order.created.price
        action = {
            "seq": seq,
            "side": "buy" if order.isbuy() else "sell",
            "symbol": order.data._name,
            "size": abs(float(order.created.size)),
            "price": None if price is None else float(price),
            "order_type": order.getordername(),
            "order_id": str(order.ref),
            "status": order.getstatusname(),
        }
        self._open_actions[order.ref] = action
        return action

    def _emit(self) -> None:
        row, self._pending = self._pending, None
        self._open_actions.clear()
        if row is None:
            return
        self.decisions += 1
        self.traded += row["action"] == "TRADED"
        if self.p.keep_rows or self._sink is None:
            self.rows.append(row)
        if self._sink is not None:
            self._sink(row)
