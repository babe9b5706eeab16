"""Market hours in a paper session's status: open, closed with the next opening, replayed."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.services.market_hours import market_status


def test_a_saturday_says_closed_opens_monday_0930_and_the_first_bar_is_due_a_minute_later() -> None:
    saturday = datetime(2025, 1, 11, 15, 0, tzinfo=UTC)
    status = market_status(["AAPL"], "1Min", saturday, replay=False)
    assert status["open"] is False
    assert status["next_open"] == "2025-01-13T14:30:00Z"
    assert status["next_bar_due"] == "2025-01-13T14:31:00Z"
    assert "closed" in status["message"] and "Monday 09:30 New York" in status["message"]


def test_an_open_market_says_when_the_next_bar_closes() -> None:
    tuesday = datetime(2025, 1, 14, 15, 0, 30, tzinfo=UTC)  # 10:00:30 New York
    status = market_status(["AAPL", "MSFT"], "5Min", tuesday, replay=False)
    assert status["open"] is True and status["next_bar_due"] == "2025-01-14T15:05:00Z"


def test_a_holiday_is_closed_and_crypto_never_is() -> None:
    new_year = datetime(2025, 1, 1, 16, 0, tzinfo=UTC)
    assert market_status(["AAPL"], "1Min", new_year, replay=False)["next_open"] == "2025-01-02T14:30:00Z"
    assert market_status(["BTC/USD"], "1Min", new_year, replay=False)["open"] is True


def test_the_local_replay_is_never_closed() -> None:
    status = market_status(["AAPL"], "1Min", datetime(2025, 1, 11, tzinfo=UTC), replay=True)
    assert status["open"] is True and status["closed_hours"] == "skipped"
