"""Ranking vocabulary and the luck-resistant score (probabilistic Sharpe ratio).

The default ranking is the probabilistic Sharpe ratio of Bailey & Lopez de Prado (2012):
the probability that the true per-observation Sharpe ratio exceeds zero given the observed one
and the length of the track record,

    PSR = Phi( SR * sqrt(n - 1) / sqrt(1 - skew * SR + (kurtosis - 1) / 4 * SR^2) )

with SR the per-observation (not annualised) Sharpe ratio and n the number of return
observations. The warehouse rows carry no skewness or kurtosis, so returns are taken as normal
(skew 0, kurtosis 3), which leaves `1 + SR^2 / 2` under the root. The warehouse ranks on the
z statistic inside Phi (Phi is monotonic, so the order is the PSR's order); Phi itself is
applied here for display. An agent with fewer than MIN_TRADES trades or MIN_OBSERVATIONS
observations is not eligible: it is listed after every eligible agent, whatever its score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from shared.errors import InvalidInputError

Mode = Literal["backtest", "paper"]
Metric = Literal["score", "sharpe", "return", "drawdown", "win_rate"]
Period = Literal["7d", "30d", "90d", "all"]

MODES: tuple[Mode, ...] = get_args(Mode)
METRICS: tuple[Metric, ...] = get_args(Metric)
PERIODS: tuple[Period, ...] = get_args(Period)
DEFAULT_MODE: Mode = "backtest"
DEFAULT_METRIC: Metric = "score"
DEFAULT_PERIOD: Period = "all"

MIN_TRADES = 5
MIN_OBSERVATIONS = 30
# Paper: a track record ranks once it spans this many days with this many trades (settings
# FARM_PAPER_MIN_DAYS / FARM_PAPER_MIN_TRADES override both); returns are taken per bucket.
PAPER_MIN_DAYS = 5
PAPER_MIN_TRADES = 5
PAPER_BUCKET_S = 86_400  # one value per day: daily returns, annualised by sqrt(365.25)
# Observations per year by backtest timeframe, the same convention as shared.backtest.metrics.
PERIODS_PER_YEAR: dict[str, float] = {"1Min": 252 * 390, "1Hour": 252 * 6.5, "1Day": 252}
_PERIOD_DAYS: dict[str, int | None] = {"7d": 7, "30d": 30, "90d": 90, "all": None}


@dataclass(frozen=True)
class Ranking:
    """Which leaderboard: mode, metric and period (the `lb:{mode}:{metric}:{period}` key)."""

    mode: Mode = DEFAULT_MODE
    metric: Metric = DEFAULT_METRIC
    period: Period = DEFAULT_PERIOD

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("mode", self.mode, MODES),
            ("metric", self.metric, METRICS),
            ("period", self.period, PERIODS),
        ):
            if value not in allowed:
                raise InvalidInputError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")

    @property
    def key(self) -> str:
        """The cache key of this ranking's sorted set."""
        return f"lb:{self.mode}:{self.metric}:{self.period}"


def period_start(period: Period, as_of: datetime) -> datetime:
    """The first instant inside `period` ending at `as_of` (the epoch for `all`)."""
    days = _PERIOD_DAYS[period]
    if days is None:
        return datetime(1970, 1, 1, tzinfo=as_of.tzinfo)
    return as_of - timedelta(days=days)


def psr_z(sharpe_per_obs: float | None, observations: int | None) -> float | None:
    """The z statistic of the probabilistic Sharpe ratio against a zero benchmark."""
    if sharpe_per_obs is None or observations is None or observations < 2:
        return None
    sr = sharpe_per_obs
    return sr * math.sqrt(observations - 1) / math.sqrt(1.0 + 0.5 * sr * sr)


def probabilistic_sharpe(z: float | None) -> float | None:
    """Phi(z): the probability that the true Sharpe ratio is above zero."""
    if z is None:
        return None
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def per_observation_sharpe(annual_sharpe: float | None, timeframe: str | None) -> float | None:
    """De-annualise a backtest's Sharpe ratio by its bar timeframe (daily when unknown)."""
    if annual_sharpe is None:
        return None
    return annual_sharpe / math.sqrt(PERIODS_PER_YEAR.get(timeframe or "1Day", 252))


def eligible(trades: int | None, observations: int | None) -> bool:
    """Whether a track record is long enough to be ranked on its score."""
    return (trades or 0) >= MIN_TRADES and (observations or 0) >= MIN_OBSERVATIONS


def not_yet_ranked(days: float | None, trades: int | None, min_days: float, min_trades: int) -> dict[str, object]:
    """What a paper track record still needs before it ranks, and the line that says so."""
    more_days = max(0, math.ceil(min_days - (days or 0.0) - 1e-9))
    more_trades = max(0, min_trades - (trades or 0))
    needs = [f"{more_days} more day{'s' if more_days != 1 else ''}"] if more_days else []
    needs += [f"{more_trades} more trade{'s' if more_trades != 1 else ''}"] if more_trades else []
    return {"days_remaining": more_days, "trades_remaining": more_trades,
            "message": "not yet ranked: " + ", ".join(needs or ["ranking at the next refresh"])}
