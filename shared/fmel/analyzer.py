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
from shared.fmel.quiet import QuietAnalyzer
from shared.fmel.record import action_for, decision_ids
from shared.fmel.reported import ReportedReads, note_text
from shared.fmel.tracker import PLATFORM_CALLS, AccessTracker, Read, indicator_reads, summarise

Row = dict[str, Any]
STAGES = ("prenext", "nextstart", "next")
REFUSED = frozenset({"Margin", "Rejected", "Canceled", "Expired"})
_DAY_ONE = datetime(1, 1, 1, tzinfo=UTC)  # backtrader's float date 1.0
_DAY_ONE_POSIX = -62_135_596_800  # the POSIX time of _DAY_ONE, in seconds


def num_to_utc(num: float) -> datetime:
    """Convert a backtrader float date to an aware UTC datetime (to the millisecond), cheaply."""
    seconds, millis = divmod(round((num - 1.0) * 86_400_000.0), 1000)
    if millis:
        # Positional (days, seconds, microseconds, milliseconds): keyword parsing costs more.
        return _DAY_ONE + timedelta(0, seconds, 0, millis)
    # Bars start on whole seconds: a POSIX time is the same instant, built without a timedelta.
    return datetime.fromtimestamp(seconds + _DAY_ONE_POSIX, UTC)


class FmelAnalyzer(QuietAnalyzer):
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
        # Record a harness run: the strategy is the host's `AgentProxy`, and the stage, reads
        # and note of each decision are what the agent's process reported (docs/trust-boundary.md).
        ("reported", False),
    )

    def start(self) -> None:
        """Instrument the strategy before its first decision."""
        p = self.p
        if p.mode not in ("backtest", "paper"):
            raise InvalidInputError(f"FMEL mode must be 'backtest' or 'paper', got {p.mode!r}")
        self.rows: list[Row] = []
        self.decisions = 0
        self.traded = 0
        self._sink: Callable[[Row], None] | None = p.sink
        self._keep = bool(p.keep_rows) or p.sink is None
        self._point = int(p.start_point) - 1
        self._inside = False
        self._placed: list[bt.Order] = []
        self._pending: Row | None = None
        self._open_actions: dict[int, Row] = {}
        self._tracker = None if p.reported else AccessTracker(self.strategy)
        self._reported = ReportedReads(list(self.strategy.datas)) if p.reported else None
        if self._tracker is not None:
            self._tracker.install()
        # What every row repeats, looked up once rather than per decision.
        strategy = self.strategy
        broker = strategy.broker
        self._getvalue, self._getcash = broker.getvalue, broker.getcash
        self._getposition = broker.getposition
        self._dt_line = strategy.lines.datetime
        self._marked = tuple((data, data._name, data.lines.close) for data in strategy.datas)
        self._row_ids = (p.agent_id, p.user_id, p.session_id, p.mode)
        self._decision_id = decision_ids(p.session_id)
        self._expand = bool(p.expand_indicators)
        wrap = self._decision if self._tracker is not None else self._reported_decision
        for stage in ("prenext", "nextstart", "next"):
            setattr(strategy, stage, wrap(stage, getattr(strategy, stage)))
        for name in ("buy", "sell"):
            setattr(strategy, name, self._placing(getattr(strategy, name)))
        if self._tracker is not None:
            for name in PLATFORM_CALLS:
                setattr(strategy, name, self._tracker.untracked(getattr(strategy, name)))

    def stop(self) -> None:
        """Emit the last decision and restore the strategy's classes and methods."""
        self._emit()
        if self._tracker is not None:
            self._tracker.uninstall()
        for name in ("prenext", "nextstart", "next", "buy", "sell", *PLATFORM_CALLS):
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
        assert self._tracker is not None  # chosen by install() only when the analyzer tracks reads
        cell = self._tracker.cell
        # The row's action when the decision placed no order / some: fixed per stage.
        labels = (action_for(stage, 0), action_for(stage, 1))

        def decide(*args: Any, **kwargs: Any) -> Any:
            if self._inside:  # nextstart calls next by default: one decision, not two
                return method(*args, **kwargs)
            if self._pending is not None:
                self._emit()
            self._inside = True
            reads: list[Read] = []
            cell[0] = reads
            try:
                return method(*args, **kwargs)
            finally:
                cell[0] = None
                self._inside = False
                self._pending = self._build(stage, labels, reads)

        return decide

    def _reported_decision(self, stage: str, method: Callable[[], Any]) -> Callable[[], Any]:
        """Wrap the proxy's step: one row per decision the agent reported, none for silent steps."""
        reported = self._reported
        assert reported is not None
        strategy = self.strategy

        def decide(*args: Any, **kwargs: Any) -> Any:
            if self._pending is not None:
                self._emit()
            self._inside = True
            try:
                return method(*args, **kwargs)
            finally:
                self._inside = False
                reply = strategy.agent_reply
                agent_stage = reply[2] if reply is not None else None
                if agent_stage in STAGES or self._placed:
                    # Orders the platform placed are always on record, even in a step whose reply
                    # named no (or no real) stage: they are then filed as a plain `next`.
                    stage = agent_stage if agent_stage in STAGES else "next"
                    reported.define(reply[5] if reply is not None else None)
                    reads = reported.resolve(reply[6]) if reply is not None else []
                    labels = (action_for(stage, 0), action_for(stage, 1))
                    note = note_text(reply[7]) if reply is not None else None
                    self._pending = self._build(stage, labels, reads, note)
        return decide

    def _placing(self, method: Callable[..., bt.Order | None]) -> Callable[..., bt.Order | None]:
        def place(*args: Any, **kwargs: Any) -> bt.Order | None:
            order = method(*args, **kwargs)
            # Placed outside a decision too (in notify_order, notify_timer): filed with the next one.
            if order is not None:
                self._placed.append(order)
            return order

        return place

    def _build(self, stage: str, labels: tuple[str, str], reads: list, note: str | None = None) -> Row:
        self._point = point = self._point + 1
        accessed, count = summarise(reads, expand=self._expand) if reads else ([], 0)
        indicators = indicator_reads(reads) if reads else []
        placed = self._placed
        if placed:
            actions = [self._action(seq, order) for seq, order in enumerate(placed, start=1)]
            self._placed = []
        else:
            actions = []
        positions = []
        getposition = self._getposition
        for data, symbol, close in self._marked:
            position = getposition(data)
            if position.size:
                mark = close.array[close._idx] if len(close.array) else position.price
                positions.append(
                    {
                        "symbol": symbol,
                        "size": float(position.size),
                        "price": float(position.price),
                        "value": float(position.size * mark),
                    }
                )
        dt_line = self._dt_line
        agent_id, user_id, session, mode = self._row_ids
        return {
            "decision_id": self._decision_id(point),
            "agent_id": agent_id,
            "user_id": user_id,
            "session_id": session,
            "mode": mode,
            "decision_point": point,
            "bar_time": num_to_utc(dt_line.array[dt_line._idx]),
            "recorded_at": datetime.now(UTC),
            "stage": stage,
            "action": labels[1] if actions else labels[0],
            "actions": actions,
            "data_accessed": accessed,
            "access_count": count,
            "portfolio_value": float(self._getvalue()),
            "cash": float(self._getcash()),
            "positions": positions,
            "indicators": indicators,
            "note": note,
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
        if self._open_actions:
            self._open_actions.clear()
        if row is None:
            return
        self.decisions += 1
        if row["action"] == "TRADED" and all(a["status"] in REFUSED for a in row["actions"]):
            row["action"] = "HOLD"  # every order it placed was refused: nothing was traded
        if row["action"] == "TRADED":
            self.traded += 1
        if self._keep:
            self.rows.append(row)
        if self._sink is not None:
            self._sink(row)
