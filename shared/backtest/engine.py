"""The backtest engine: one cerebro over the loaded bars, the agent, FMEL and the equity record.

`build_cerebro` is the platform's (trusted) side of every backtest: feeds, broker and equity
record; `collect` turns a finished run into metrics and trades. `run_strategy` runs a trusted
strategy in-process on it; agents run on the same cerebro through the harness
(`shared.harness.backtest_host`). None of it touches a port.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import backtrader as bt
import pandas as pd

from shared.backtest.metrics import DAILY, MINUTE, BacktestMetrics, ClosedTrade, compute_metrics
from shared.domain.money import DEFAULT_CASH
from shared.domain.timeframe import Timeframe
from shared.errors import InvalidInputError
from shared.fmel import FmelAnalyzer
from shared.fmel.analyzer import num_to_utc
from shared.market.loader import make_feed

T = Timeframe
PERIODS_PER_YEAR: dict[Timeframe, float] = {T.DAY: DAILY, T.HOUR: DAILY * 7, T.FIFTEEN_MINUTES: DAILY * 26,
                                            T.FIVE_MINUTES: DAILY * 78, T.MINUTE: MINUTE}
Row = dict[str, Any]
__all__ = ["DEFAULT_CASH", "PERIODS_PER_YEAR", "EngineResult", "FmelContext", "build_cerebro", "collect"]


@dataclass(frozen=True, kw_only=True)
class FmelContext:
    """Who the decisions belong to, and where their rows go."""

    agent_id: str
    user_id: str
    session_id: str
    sink: Callable[[Row], None]


@dataclass
class EngineResult:
    """What one run produced: metrics (with the curves), the trade list and the decision count."""

    metrics: BacktestMetrics
    trades: list[dict[str, Any]] = field(default_factory=list)
    decisions: int = 0


class EquityRecorder(bt.Analyzer):
    """Record, after every decision, the portfolio value, exposure, closes and closed trades."""

    def start(self) -> None:
        """Prepare the per-bar lists, and what each bar reads, looked up once."""
        strategy = self.strategy
        broker = strategy.broker
        self.times: list[float] = []
        self.values: list[float] = []
        self.exposed: list[bool] = []
        self.closes: dict[str, list[float]] = {d._name: [] for d in strategy.datas}
        self.trades: list[ClosedTrade] = []
        self._sizes: dict[int, float] = {}
        self._clock = strategy.lines.datetime
        self._getvalue, self._getposition = broker.getvalue, broker.getposition
        # A feed's first line is its close, so the close line's length is the feed's length.
        self._marks = tuple((d, d.lines.close, self.closes[d._name].append) for d in strategy.datas)

    def prenext(self) -> None:
        """Record warm-up bars too: the equity curve covers the whole run."""
        self.next()

    def next(self) -> None:
        """Record this bar (`_idx` rather than the `idx` property: this runs on every bar)."""
        clock = self._clock
        self.times.append(clock.array[clock._idx])
        self.values.append(self._getvalue())
        getposition = self._getposition
        exposed = False
        for data, close, record in self._marks:
            record(close.array[close._idx] if close.lencount else math.nan)
            exposed = exposed or bool(getposition(data).size)
        self.exposed.append(exposed)

    # backtrader calls these on every analyzer every bar; this one has no children and needs
    # no cash or fund notifications, so skipping the base class's dispatch saves per-bar work.
    def _next(self) -> None:
        self.next()

    def _prenext(self) -> None:
        self.next()

    def _nextstart(self) -> None:
        self.next()

    def _notify_cashvalue(self, cash: float, value: float) -> None:
        pass

    def _notify_fund(self, cash: float, value: float, fundvalue: float, shares: float) -> None:
        pass

    def notify_trade(self, trade: bt.Trade) -> None:
        """Keep each round trip once it closes, with the largest size it reached."""
        self._sizes[trade.ref] = max(self._sizes.get(trade.ref, 0.0), abs(float(trade.size)))
        if trade.isclosed:
            self.trades.append(
                ClosedTrade(
                    pnl=float(trade.pnlcomm),
                    entry_time=num_to_utc(trade.dtopen),
                    exit_time=num_to_utc(trade.dtclose),
                    size=self._sizes.pop(trade.ref, 0.0),
                    symbol=trade.data._name,
                )
            )


def build_cerebro(
    frames: Mapping[str, pd.DataFrame], *, timeframe: str, cash: float, commission: float
) -> bt.Cerebro:
    """The platform's side of a backtest: feeds, the simulated broker and the equity record."""
    frames = {s: f for s, f in frames.items() if len(f)}
    if not frames:
        raise InvalidInputError("no bars for any requested symbol in the window")
    Timeframe.parse(timeframe)  # InvalidInputError for an unknown one
    cerebro = bt.Cerebro(stdstats=False)
    for symbol, frame in frames.items():
        cerebro.adddata(make_feed(symbol, frame, timeframe))
    cerebro.broker.setcash(cash)
    cerebro.broker.setcommission(commission=commission)
    cerebro.addanalyzer(EquityRecorder, _name="equity")
    return cerebro


def add_fmel(cerebro: bt.Cerebro, fmel: FmelContext, *, reported: bool = False) -> None:
    """Record every decision of the run into `fmel.sink` (as the agent reported it, if `reported`)."""
    cerebro.addanalyzer(
        FmelAnalyzer, _name="fmel", agent_id=fmel.agent_id, user_id=fmel.user_id,
        session_id=fmel.session_id, mode="backtest", sink=fmel.sink, reported=reported,
    )


def collect(strategy: bt.Strategy, timeframe: str, *, fmel: bool) -> EngineResult:
    """Compute the metrics of a finished run from the platform's own equity record."""
    equity: EquityRecorder = strategy.analyzers.equity
    decisions = strategy.analyzers.fmel.decisions if fmel else len(equity.values)
    stamps = [num_to_utc(t) for t in equity.times]
    metrics = compute_metrics(
        stamps,
        equity.values,
        equity.trades,
        equity.exposed,
        {s: _backfilled(c) for s, c in equity.closes.items()},
        periods_per_year=PERIODS_PER_YEAR[Timeframe.parse(timeframe)],
    )
    return EngineResult(metrics, [_trade_row(t) for t in equity.trades], decisions)


def run_strategy(
    agent: type[bt.Strategy],
    frames: Mapping[str, pd.DataFrame],
    *,
    timeframe: str = Timeframe.DAY,
    cash: float = DEFAULT_CASH,
    commission: float = 0.0,
    fmel: FmelContext | None = None,
) -> EngineResult:
    """Backtest a TRUSTED strategy in this process (reference runs, benchmarks, platform code).

    Agents never run here: their backtests go through `shared.harness.backtest_host`, which runs
    the same cerebro with the agent in a sandboxed process. FMEL records every decision when given.
    """
    cerebro = build_cerebro(frames, timeframe=timeframe, cash=cash, commission=commission)
    cerebro.addstrategy(agent)
    if fmel is not None:
        add_fmel(cerebro, fmel)
    return collect(cerebro.run()[0], timeframe, fmel=fmel is not None)


def _backfilled(closes: list[float]) -> list[float]:
    # A symbol whose bars start late has no price before its first bar: use its first one.
    first = next((c for c in closes if not math.isnan(c)), math.nan)
    return [first if math.isnan(c) else c for c in closes]


def _trade_row(trade: ClosedTrade) -> dict[str, Any]:
    return {
        "symbol": trade.symbol,
        "size": trade.size,
        "entry_time": trade.entry_time.astimezone(UTC).isoformat(),
        "exit_time": trade.exit_time.astimezone(UTC).isoformat(),
        "pnl": trade.pnl,
    }

