"""Pub/Sub topics (SPEC §11). Every topic has a dead-letter topic."""

from __future__ import annotations

MARKET_DATA = "market-data"
CRYPTO_DATA = "crypto-data"
NEWS_DATA = "news-data"
BACKTEST_REQUESTS = "backtest-requests"
BACKTEST_RESULTS = "backtest-results"
PERFORMANCE_UPDATES = "performance-updates"
RECONCILIATION_REQUESTS = "reconciliation-requests"
RUNTIME_WATCH = "runtime-watch"  # a tick from Cloud Scheduler: apply the restart budget to GKE runtimes

TOPICS: tuple[str, ...] = (
    MARKET_DATA,
    CRYPTO_DATA,
    NEWS_DATA,
    BACKTEST_REQUESTS,
    BACKTEST_RESULTS,
    PERFORMANCE_UPDATES,
    RECONCILIATION_REQUESTS,
    RUNTIME_WATCH,
)
MAX_DELIVERY_ATTEMPTS = 5


def dead_letter(topic: str) -> str:
    """The dead-letter topic of `topic`."""
    return f"{topic}-dead-letter"


ALL_TOPICS: tuple[str, ...] = TOPICS + tuple(dead_letter(t) for t in TOPICS)
