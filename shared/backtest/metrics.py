"""Backtest performance metrics (SPEC §7), JSON-safe: undefined values are None, never NaN/inf.

Conventions: returns and drawdowns are fractions (0.25 = 25 %); per-bar returns are simple
returns of the equity curve; Sharpe and Sortino use a zero risk-free rate and are annualised with
`periods_per_year` (252 for daily bars, 252 * 390 for minute bars); the sample standard
deviation (ddof=1) is used for volatility and Sharpe; Sortino's downside deviation is the root
mean square of the negative returns over all periods; drawdown duration is the longest run of
consecutive bars below the running peak.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any

from shared.errors import InvalidInputError

DAILY = 252
MINUTE = 252 * 390


@dataclass(frozen=True)
class ClosedTrade:
    """One round trip: its net profit and loss, when it opened and closed, and its size."""

    pnl: float
    entry_time: datetime
    exit_time: datetime
    size: float
    symbol: str | None = None


@dataclass(frozen=True)
class BacktestMetrics:
    """Every metric of one run; `equity_curve` and `drawdown` are per bar, for plotting."""

    bars: int
    start_value: float | None
    final_value: float | None
    total_return: float | None
    annual_return: float | None
    volatility: float | None
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    max_drawdown: float
    max_drawdown_duration: int
    trades: int
    win_rate: float | None
    profit_factor: float | None
    avg_win: float | None
    avg_loss: float | None
    exposure: float | None
    benchmark_return: float | None
    benchmark_sharpe: float | None
    equity_curve: list[dict[str, Any]] = field(default_factory=list)
    drawdown: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return every field as plain JSON-ready values."""
        return asdict(self)

    def summary(self) -> dict[str, Any]:
        """Return the scalar metrics (no series), e.g. for `analytics.backtest_runs`."""
        return {k: v for k, v in asdict(self).items() if k not in ("equity_curve", "drawdown", "start_value")}


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs)


def _returns(values: Sequence[float]) -> list[float]:
    return [b / a - 1.0 if a else 0.0 for a, b in pairwise(values)]


def _sharpe(returns: Sequence[float], periods_per_year: float) -> float | None:
    if len(returns) < 2:
        return None
    std = _stdev(returns)
    return _finite(_mean(returns) / std * math.sqrt(periods_per_year)) if std > 0 else None


def _stdev(xs: Sequence[float]) -> float:
    mean = _mean(xs)
    var = sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)
    # Float noise on a constant series must read as zero, not as a huge Sharpe.
    return math.sqrt(var) if var > 1e-24 else 0.0


def _drawdowns(values: Sequence[float]) -> tuple[list[float], float, int]:
    peak, series, longest, run = -math.inf, [], 0, 0
    for v in values:
        peak = max(peak, v)
        dd = v / peak - 1.0 if peak > 0 else 0.0
        series.append(dd)
        run = run + 1 if dd < 0 else 0
        longest = max(longest, run)
    return series, -min(series, default=0.0), longest


def _benchmark(
    closes: Mapping[str, Sequence[float]], n: int, periods_per_year: float
) -> tuple[float | None, float | None]:
    usable = []
    for symbol, series in closes.items():
        if len(series) != n:
            raise InvalidInputError(f"close series of {symbol} has {len(series)} bars, the equity curve {n}")
        if series and series[0] and all(math.isfinite(c) for c in series):
            usable.append(series)
    if not usable or n == 0:
        return None, None
    # Equal weight at the start, then held: the value is the mean of the normalised prices.
    curve = [_mean([s[i] / s[0] for s in usable]) for i in range(n)]
    return _finite(curve[-1] - 1.0), _sharpe(_returns(curve), periods_per_year)


def compute_metrics(
    timestamps: Sequence[datetime],
    values: Sequence[float],
    trades: Sequence[ClosedTrade] = (),
    exposure: Sequence[float | bool] = (),
    closes: Mapping[str, Sequence[float]] | None = None,
    *,
    periods_per_year: float = DAILY,
) -> BacktestMetrics:
    """Compute the run's metrics from its per-bar equity, closed trades, exposure and closes."""
    if len(timestamps) != len(values):
        raise InvalidInputError(f"{len(timestamps)} timestamps but {len(values)} equity values")
    if exposure and len(exposure) != len(values):
        raise InvalidInputError(f"{len(exposure)} exposure flags but {len(values)} equity values")
    if periods_per_year <= 0:
        raise InvalidInputError("periods_per_year must be positive")
    values = [float(v) for v in values]
    if any(not math.isfinite(v) for v in values):
        raise InvalidInputError("equity values must be finite numbers")
    n = len(values)
    returns = _returns(values)
    total = values[-1] / values[0] - 1.0 if n and values[0] else None
    annual = None
    if total is not None and n >= 2:
        annual = (1.0 + total) ** (periods_per_year / (n - 1)) - 1.0 if total > -1.0 else -1.0
    volatility = _stdev(returns) * math.sqrt(periods_per_year) if len(returns) >= 2 else None
    downside = math.sqrt(_mean([min(r, 0.0) ** 2 for r in returns])) if returns else 0.0
    sortino = _mean(returns) / downside * math.sqrt(periods_per_year) if downside > 0 else None
    dd_series, max_dd, dd_bars = _drawdowns(values)
    calmar = annual / max_dd if annual is not None and max_dd > 0 else None
    pnls = [float(t.pnl) for t in trades]
    wins, losses = [p for p in pnls if p > 0], [p for p in pnls if p < 0]
    bench_return, bench_sharpe = _benchmark(closes or {}, n, periods_per_year)
    return BacktestMetrics(
        bars=n,
        start_value=_finite(values[0]) if n else None,
        final_value=_finite(values[-1]) if n else None,
        total_return=_finite(total),
        annual_return=_finite(annual),
        volatility=_finite(volatility),
        sharpe=_sharpe(returns, periods_per_year),
        sortino=_finite(sortino),
        calmar=_finite(calmar),
        max_drawdown=_finite(max_dd) or 0.0,
        max_drawdown_duration=dd_bars,
        trades=len(pnls),
        win_rate=len(wins) / len(pnls) if pnls else None,
        profit_factor=_finite(sum(wins) / -sum(losses)) if losses else None,
        avg_win=_mean(wins) if wins else None,
        avg_loss=_mean(losses) if losses else None,
        exposure=sum(1 for e in exposure if e) / len(exposure) if exposure else None,
        benchmark_return=bench_return,
        benchmark_sharpe=bench_sharpe,
        equity_curve=[{"timestamp": t.isoformat(), "value": v} for t, v in zip(timestamps, values, strict=True)],
        drawdown=[{"timestamp": t.isoformat(), "drawdown": d} for t, d in zip(timestamps, dd_series, strict=True)],
    )
