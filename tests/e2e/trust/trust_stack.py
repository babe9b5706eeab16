"""What the trust-boundary tests share: the corpus, a small standard evaluation, honest references.

The references are the pre-harness engine (`shared.backtest.engine.run_strategy`, a trusted
strategy run in this process on the platform's own cerebro): what a set of orders earns when
executed honestly is what `Replay` earns placing them at the bars a decision record says.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import backtrader as bt
import pandas as pd

from shared.backtest.engine import EngineResult, run_strategy
from shared.domain.clock import now_iso
from shared.market.bars import bar_to_row
from shared.market.loader import COLUMNS
from shared.market.synthetic import generate_bars
from shared.ports.documents import DocumentStore
from shared.services.standard_evaluation import COLLECTION, DOC_ID, StandardEvaluation

AGENTS = Path(__file__).resolve().parent / "agents"
SYMBOLS = ("AAA", "BBB")
START, END = datetime(2023, 1, 1, tzinfo=UTC), datetime(2023, 9, 1, tzinfo=UTC)  # 171 daily bars
Orders = Mapping[datetime, list[tuple[str, str, float]]]


def agent_source(name: str, **config: Any) -> str:
    """The corpus agent `agents/<name>.py`, its `CONFIG = {}` line filled with `config`."""
    source = (AGENTS / f"{name}.py").read_text()
    if config:
        assert "\nCONFIG = {}\n" in source, f"{name}.py has no CONFIG line to fill"
        source = source.replace("\nCONFIG = {}\n", f"\nCONFIG = {config!r}\n", 1)
    return source


def record_standard_evaluation(documents: DocumentStore) -> StandardEvaluation:
    """Fix the evaluation every automatic backtest runs (and the leaderboard ranks) to SYMBOLS."""
    evaluation = StandardEvaluation(SYMBOLS, START.date().isoformat(), END.date().isoformat())
    at = now_iso()
    documents.create(
        COLLECTION,
        DOC_ID,
        {**evaluation.to_json(), "owner_uid": "platform", "created_at": at, "updated_at": at},
    )
    return evaluation


def market_frames(
    symbols: Iterable[str] = SYMBOLS,
    start: datetime = START,
    end: datetime = END,
    *,
    late: Mapping[str, int] | None = None,
) -> dict[str, pd.DataFrame]:
    """The synthetic market as `load_bars` returns it; `late[symbol]` drops that many first bars."""
    frames = {}
    for symbol, bars in generate_bars(list(symbols), start, end).items():
        rows = [bar_to_row(bar) for bar in bars][(late or {}).get(symbol, 0) :]
        index = pd.DatetimeIndex(
            [r["timestamp"].replace(tzinfo=None) for r in rows], name="datetime"
        )
        frame = pd.DataFrame({c: [r[c] for r in rows] for c in COLUMNS}, index=index)
        for column in ("open", "high", "low", "close", "volume", "vwap", "trade_count"):
            frame[column] = frame[column].astype("float64")
        frame["openinterest"] = 0.0
        frames[symbol] = frame
    return frames


class Replay(bt.Strategy):
    """Place, at each bar, the market orders a decision record says were placed at that bar."""

    params = (("orders", None),)

    def prenext(self) -> None:
        """Warm-up bars are bars too."""
        self.next()

    def next(self) -> None:
        """Place this bar's orders."""
        for side, symbol, size in self.p.orders.get(self.datetime.datetime(0), ()):
            place = self.buy if side == "buy" else self.sell
            place(data=self.getdatabyname(symbol), size=size)


def recorded_orders(
    rows: Iterable[Mapping[str, Any]],
) -> dict[datetime, list[tuple[str, str, float]]]:
    """The market orders of decision rows, by naive UTC bar time, in the order they were placed."""
    orders: dict[datetime, list[tuple[str, str, float]]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r["decision_point"]):
        stamp = _naive_utc(row["bar_time"])
        for action in sorted(row["actions"], key=lambda a: a["seq"]):
            assert action["order_type"] == "Market", f"Replay places market orders only: {action}"
            orders[stamp].append((action["side"], action["symbol"], float(action["size"])))
    return dict(orders)


def replayed(orders: Orders, frames: Mapping[str, pd.DataFrame], **engine: Any) -> EngineResult:
    """What `orders` earn on `frames` when the platform's own cerebro executes them honestly."""
    replay = type("Replay", (Replay,), {"params": (("orders", dict(orders)),)})
    return run_strategy(replay, frames, **engine)


def processes_with(marker: str) -> list[str]:
    """Command lines of every live process on this machine that mention `marker`."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (
                Path(entry.path, "cmdline")
                .read_bytes()
                .replace(b"\0", b" ")
                .decode(errors="replace")
            )
        except OSError:
            continue  # ended while scanning
        if marker in cmdline:
            found.append(f"{entry.name}: {cmdline}")
    return found


def _naive_utc(value: datetime | str) -> datetime:
    stamp = datetime.fromisoformat(value) if isinstance(value, str) else value
    return stamp.astimezone(UTC).replace(tzinfo=None) if stamp.tzinfo else stamp
