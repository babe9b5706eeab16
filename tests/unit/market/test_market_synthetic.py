from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from shared.errors import InvalidInputError
from shared.market.bars import bar_hash
from shared.market.loader import load_bars, make_feed
from shared.market.synthetic import business_days, generate_bars, write_synthetic_market

START, END = datetime(2023, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)


def test_same_inputs_give_byte_identical_bars() -> None:
    a = generate_bars(["AAPL", "MSFT"], START, END)
    b = generate_bars(["AAPL", "MSFT"], START, END)
    assert [bar_hash(x) for x in a["AAPL"]] == [bar_hash(x) for x in b["AAPL"]]
    assert a == b


def test_a_different_seed_or_symbol_gives_a_different_market() -> None:
    base = generate_bars(["AAPL"], START, END)["AAPL"]
    assert generate_bars(["AAPL"], START, END, seed=1)["AAPL"] != base
    assert [b.close for b in generate_bars(["MSFT"], START, END)["MSFT"]] != [b.close for b in base]


def test_daily_bars_fall_on_weekdays_without_fixed_holidays_and_are_labelled_synthetic() -> None:
    bars = generate_bars(["AAPL"], START, END)["AAPL"]
    days = [b.timestamp.date() for b in bars]
    assert len(days) == 260 - 4  # weekdays of 2023 minus four fixed holidays
    assert all(d.weekday() < 5 for d in days)
    assert date(2023, 7, 4) not in days and date(2023, 12, 25) not in days
    assert date(2023, 1, 2) not in days and date(2023, 1, 3) in days  # New Year observed on Monday
    assert {b.source for b in bars} == {"synthetic"}
    assert days == business_days(date(2023, 1, 1), date(2024, 1, 1))


def test_bars_are_well_formed_ohlcv() -> None:
    for b in generate_bars(["AAPL", "XOM"], START, END)["XOM"]:
        assert b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high
        assert b.low > 0 and b.volume > 0 and b.trade_count and b.trade_count > 0


def test_symbols_share_a_market_factor_so_their_returns_correlate() -> None:
    bars = generate_bars(["A", "B", "C"], START, END)
    rets = [np.diff(np.log([b.close for b in bars[s]])) for s in "ABC"]
    corr = np.corrcoef(rets)
    assert corr[0, 1] > 0.2 and corr[0, 2] > 0.2 and corr[1, 2] > 0.2


def test_minute_bars_cover_the_new_york_session_0930_to_1600() -> None:
    bars = generate_bars(["SPY"], datetime(2024, 3, 8, tzinfo=UTC), datetime(2024, 3, 12, tzinfo=UTC), "1Min")["SPY"]
    ny = ZoneInfo("America/New_York")
    local = [b.timestamp.astimezone(ny) for b in bars]
    assert len(bars) == 2 * 390  # Friday and Monday (DST starts on the Sunday in between)
    assert min(t.time() for t in local) == time(9, 30) and max(t.time() for t in local) == time(15, 59)


def test_unknown_timeframe_and_empty_symbols_are_clear_errors() -> None:
    with pytest.raises(InvalidInputError, match="timeframes"):
        generate_bars(["A"], START, END, "1Week")
    with pytest.raises(InvalidInputError, match="symbols"):
        generate_bars([], START, END)


def test_written_market_loads_back_per_symbol_with_hashes_in_order(warehouse) -> None:
    written = write_synthetic_market(warehouse, ["AAPL", "MSFT"], START, END, batch_size=100)
    june = datetime(2023, 6, 1, tzinfo=UTC), datetime(2023, 7, 1, tzinfo=UTC)
    frames = load_bars(warehouse, ["MSFT", "AAPL", "NONE"], *june)
    expected = [b for b in generate_bars(["AAPL", "MSFT"], START, END)["AAPL"]
                if datetime(2023, 6, 1, tzinfo=UTC) <= b.timestamp < datetime(2023, 7, 1, tzinfo=UTC)]
    assert written == 2 * len(generate_bars(["AAPL"], START, END)["AAPL"])
    aapl = frames["AAPL"]
    assert list(aapl["data_hash"]) == [bar_hash(b) for b in expected]
    assert list(aapl["close"]) == [b.close for b in expected]
    assert aapl.index.is_monotonic_increasing and aapl.index.tz is None
    assert frames["NONE"].empty and len(frames["MSFT"]) == len(expected)


def test_loader_feed_carries_each_bars_hash(warehouse) -> None:
    write_synthetic_market(warehouse, ["AAPL"], START, END)
    frame = load_bars(warehouse, ["AAPL"], START, END)["AAPL"]
    feed = make_feed("AAPL", frame)
    assert len(feed.fmel_hashes) == len(frame) and set(feed.fmel_hashes.values()) == set(frame["data_hash"])


def test_loader_rejects_bad_requests_clearly(warehouse) -> None:
    with pytest.raises(InvalidInputError, match="symbols"):
        load_bars(warehouse, [], START, END)
    with pytest.raises(InvalidInputError, match="before end"):
        load_bars(warehouse, ["A"], END, START)
    with pytest.raises(InvalidInputError, match="timeframe"):
        load_bars(warehouse, ["A"], START, END, "1Week")
