"""Keep the session document current and publish portfolio snapshots (SPEC §9).

`SessionReporter` runs a heartbeat thread: every `interval_s` it writes portfolio value, cash,
positions, recent trades, decision counters and `heartbeat_at` to `sessions/{id}` (the runtime's
own fields, `shared.services.paper_runtime.record_runtime_report`), and publishes a
`PortfolioSnapshotted` on `performance-updates`. The session's state is never written here: its
final report tells the session aggregate the runtime left (`mark_runtime_exited`).
Each snapshot also goes to `snapshots` (the runtime batches them into the warehouse).
`DecisionCounter` persists the last decision point to a small local file on every decision
(one pwrite, no fsync: it survives a killed process), so a restart knows exactly how many
decisions were made and can report the ones the warehouse never got.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.domain.clock import now_iso
from shared.ports.broker import TradingBroker
from shared.ports.documents import DocumentStore
from shared.ports.messages import MessageBus, OutgoingMessage
from shared.schemas.messages import PortfolioSnapshotted
from shared.services.paper_runtime import mark_runtime_exited, record_runtime_report

log = logging.getLogger(__name__)


class DecisionCounter:
    """The last decision point of a session, mirrored in a file that survives `kill -9`."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        raw = os.pread(self._fd, 32, 0).strip(b"\0 \n")
        self.last = int(raw) if raw.isdigit() else 0
        self.made = 0  # decisions made by this process

    def mark(self, point: int) -> None:
        """Record that decision `point` was made."""
        self.last = point
        self.made += 1
        os.pwrite(self._fd, b"%20d" % point, 0)

    def close(self) -> None:
        """Close the file."""
        os.close(self._fd)


class SessionReporter:
    """Heartbeat the session document and publish snapshots until stopped."""

    def __init__(
        self, documents: DocumentStore, messages: MessageBus, session_id: str, session: dict[str, Any],
        broker: TradingBroker, counter: DecisionCounter, *, interval_s: float = 2.0,
        extra: Callable[[], dict[str, Any]] | None = None,
        snapshots: Callable[[PortfolioSnapshotted], None] | None = None,
    ) -> None:
        self.documents = documents
        self.messages = messages
        self.session_id = session_id
        self.session = session
        self.broker = broker
        self.counter = counter
        self.interval_s = interval_s
        self.extra = extra  # more fields for the document (latency, feed and FMEL counters)
        self.snapshots = snapshots  # also keep each snapshot (the warehouse's paper_snapshots)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="session-heartbeat", daemon=True)

    def start(self) -> None:
        """Start heartbeating."""
        self._thread.start()

    def stop(self) -> None:
        """Stop heartbeating (the final report is `report(final=True)`)."""
        self._stop.set()
        self._thread.join(timeout=self.interval_s + 5)

    def report(self, *, final: bool = False, exited: bool = False) -> None:
        """Write the session document and publish one snapshot now; `exited` after a clean exit."""
        broker = self.broker.state()
        at = now_iso()
        positions = [
            {"symbol": h.symbol, "size": h.size, "price": h.price, "value": h.size * h.price} for h in broker.positions
        ]
        changes: dict[str, Any] = {
            "portfolio_value": broker.value, "cash": broker.cash, "positions": positions,
            "recent_trades": [vars(t) for t in broker.recent_trades], "trades": broker.trades,
            "last_decision_point": self.counter.last, "decisions": self.counter.made, "heartbeat_at": at,
            "updated_at": at, **(self.extra() if self.extra else {}),
        }
        record_runtime_report(self.documents, self.session_id, changes)
        if exited:
            mark_runtime_exited(self.documents, self.session_id)
        snapshot = PortfolioSnapshotted(
            session_id=self.session_id, agent_id=self.session["agent_id"], owner_uid=self.session["owner_uid"],
            timestamp=at, portfolio_value=broker.value, cash=broker.cash,
            starting_value=float(self.session.get("starting_value") or 0.0), trades=broker.trades,
            positions=positions, final=final,
        )
        self.messages.publish(
            PortfolioSnapshotted.TOPIC,
            [OutgoingMessage(snapshot.encode(), {"session_id": self.session_id, "agent_id": self.session["agent_id"]})],
        )
        if self.snapshots is not None:
            self.snapshots(snapshot)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.report()
            except Exception:
                log.exception("session heartbeat failed")
