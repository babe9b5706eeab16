"""The platform's default universe and backtest window (SPEC §7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.domain.timeframe import Timeframe

# Liquid US large caps across sectors, plus the S&P 500 ETF, so a default backtest is meaningful.
DEFAULT_SYMBOLS: tuple[str, ...] = (
    "AAPL",
    "MSFT",
    "AMZN",
    "GOOGL",
    "META",
    "NVDA",
    "TSLA",
    "JPM",
    "V",
    "JNJ",
    "WMT",
    "XOM",
    "PG",
    "UNH",
    "HD",
    "SPY",
)
DEFAULT_TIMEFRAME = Timeframe.DAY.value
DEFAULT_WINDOW_DAYS = 730


def default_window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """Return `(start, end)` covering the last two years, as UTC midnights, `end` exclusive."""
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    end = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return end - timedelta(days=DEFAULT_WINDOW_DAYS), end
