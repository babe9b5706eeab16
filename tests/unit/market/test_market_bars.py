from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.errors import InvalidInputError
from shared.market import DEFAULT_SYMBOLS, Bar, bar_hash, bar_to_row, default_window, row_to_bar
from shared.schemas.warehouse import BARS

T0 = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)


def make_bar(**changes: object) -> Bar:
    values = {"symbol": "AAPL", "timeframe": "1Min", "timestamp": T0, "open": 1.0, "high": 2.0, "low": 0.5,
              "close": 1.5, "volume": 100.0, "trade_count": 7, "vwap": 1.25, "source": "alpaca-iex"}
    values.update(changes)
    return Bar(**values)  # type: ignore[arg-type]


def test_bar_hash_is_32_hex_chars_and_stable_across_calls() -> None:
    h = bar_hash(make_bar())
    assert len(h) == 32 and int(h, 16) >= 0
    assert bar_hash(make_bar()) == h


def test_bar_hash_known_value_never_changes() -> None:
    # Pinned: the ingester and stored rows rely on this exact encoding.
    assert bar_hash(make_bar()) == "8fb5e3b5ab0dc7639c4a2d2825992768"


def test_bar_hash_ignores_source_and_the_timezone_the_time_was_given_in() -> None:
    assert bar_hash(make_bar(source="synthetic")) == bar_hash(make_bar())
    assert bar_hash(make_bar(timestamp=T0.astimezone(timezone(timedelta(hours=-5))))) == bar_hash(make_bar())


@pytest.mark.parametrize("field,value", [("close", 1.5000001), ("volume", 101.0), ("symbol", "MSFT"),
                                         ("timestamp", T0 + timedelta(minutes=1)), ("trade_count", None)])
def test_bar_hash_changes_when_any_content_field_changes(field: str, value: object) -> None:
    assert bar_hash(make_bar(**{field: value})) != bar_hash(make_bar())


def test_bar_rejects_naive_timestamps_and_unknown_timeframes() -> None:
    with pytest.raises(InvalidInputError, match="timezone-aware"):
        make_bar(timestamp=datetime(2024, 1, 2))
    with pytest.raises(InvalidInputError, match="timeframe"):
        make_bar(timeframe="2Days")


def test_bar_to_row_has_exactly_the_bars_table_columns_and_round_trips() -> None:
    bar = make_bar()
    row = bar_to_row(bar)
    assert set(row) == {c.name for c in BARS.columns}
    assert row["data_hash"] == bar_hash(bar)
    assert row_to_bar(row) == bar


def test_default_window_is_two_years_ending_at_todays_utc_midnight() -> None:
    start, end = default_window(datetime(2025, 6, 30, 15, 0, tzinfo=UTC))
    assert end == datetime(2025, 6, 30, tzinfo=UTC)
    assert end - start == timedelta(days=730)
    assert 10 <= len(DEFAULT_SYMBOLS) <= 20 and len(set(DEFAULT_SYMBOLS)) == len(DEFAULT_SYMBOLS)
