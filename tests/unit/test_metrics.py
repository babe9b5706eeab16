from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest

from shared.backtest import ClosedTrade, compute_metrics
from shared.errors import InvalidInputError

DAYS = [datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=i) for i in range(5)]
VALUES = [100.0, 110.0, 99.0, 108.9, 108.9]
TRADES = [ClosedTrade(pnl, DAYS[0], DAYS[1], 1.0, "A") for pnl in (10.0, -4.0, 6.0, -2.0)]
CLOSES = {"A": [10.0, 11.0, 12.0, 11.0, 12.0], "B": [20.0, 20.0, 22.0, 24.0, 22.0]}


def golden():
    return compute_metrics(DAYS, VALUES, TRADES, [0, 1, 1, 0, 1], CLOSES, periods_per_year=4)


def test_every_metric_of_a_small_fixed_series_matches_the_hand_computation() -> None:
    m = golden()
    # Returns per bar: 110/100-1 = 0.1, 99/110-1 = -0.1, 108.9/99-1 = 0.1, 108.9/108.9-1 = 0.
    mean = (0.1 - 0.1 + 0.1 + 0.0) / 4  # 0.025
    std = math.sqrt(((0.1 - mean) ** 2 + (-0.1 - mean) ** 2 + (0.1 - mean) ** 2 + (0 - mean) ** 2) / 3)
    assert m.bars == 5 and m.final_value == 108.9
    assert m.total_return == pytest.approx(0.089)  # 108.9 / 100 - 1
    assert m.annual_return == pytest.approx(1.089 ** (4 / 4) - 1)  # four periods at four per year
    assert m.volatility == pytest.approx(std * math.sqrt(4))
    assert m.sharpe == pytest.approx(mean / std * 2)
    downside = math.sqrt((0 + 0.1**2 + 0 + 0) / 4)  # 0.05
    assert m.sortino == pytest.approx(mean / downside * 2)  # 1.0
    # Peak 110 from bar 1; 99 is 10 % under it; 108.9 is 1 % under it; underwater for bars 2, 3, 4.
    assert m.max_drawdown == pytest.approx(0.1)
    assert m.max_drawdown_duration == 3
    assert m.calmar == pytest.approx(0.089 / 0.1)
    assert m.trades == 4 and m.win_rate == 0.5
    assert m.profit_factor == pytest.approx((10 + 6) / (4 + 2))
    assert (m.avg_win, m.avg_loss) == (8.0, -3.0)
    assert m.exposure == pytest.approx(3 / 5)
    # Benchmark: mean of A/10 and B/20 = 1, 1.05, 1.15, 1.15, 1.15.
    assert m.benchmark_return == pytest.approx(0.15)
    bench = [0.05, 1.15 / 1.05 - 1, 0.0, 0.0]
    bmean = sum(bench) / 4
    bstd = math.sqrt(sum((r - bmean) ** 2 for r in bench) / 3)
    assert m.benchmark_sharpe == pytest.approx(bmean / bstd * 2)
    assert [p["drawdown"] for p in m.drawdown] == pytest.approx([0, 0, -0.1, -0.01, -0.01])
    assert m.equity_curve[0] == {"timestamp": "2024-01-01T00:00:00+00:00", "value": 100.0}


def test_summary_leaves_out_the_series_and_everything_is_json_safe() -> None:
    m = golden()
    assert "equity_curve" not in m.summary() and m.summary()["sharpe"] == m.sharpe
    json.dumps(m.to_dict(), allow_nan=False)


def test_no_trades_and_flat_equity_give_none_or_zero_never_nan() -> None:
    m = compute_metrics(DAYS, [100.0] * 5, [], [0] * 5, {"A": [10.0] * 5})
    assert (m.total_return, m.annual_return, m.volatility) == (0.0, 0.0, 0.0)
    assert (m.sharpe, m.sortino, m.calmar) == (None, None, None)
    assert (m.max_drawdown, m.max_drawdown_duration) == (0.0, 0)
    assert (m.trades, m.win_rate, m.profit_factor, m.avg_win, m.avg_loss) == (0, None, None, None, None)
    assert m.exposure == 0.0 and m.benchmark_return == 0.0 and m.benchmark_sharpe is None
    json.dumps(m.to_dict(), allow_nan=False)


def test_one_bar_and_no_bars_are_handled() -> None:
    one = compute_metrics(DAYS[:1], [100.0])
    assert (one.bars, one.total_return, one.annual_return, one.sharpe, one.volatility) == (1, 0.0, None, None, None)
    none = compute_metrics([], [])
    assert (none.bars, none.total_return, none.final_value, none.max_drawdown) == (0, None, None, 0.0)
    json.dumps(none.to_dict(), allow_nan=False)


def test_only_winning_trades_leave_profit_factor_undefined_rather_than_infinite() -> None:
    m = compute_metrics(DAYS, VALUES, TRADES[:1])
    assert m.win_rate == 1.0 and m.profit_factor is None and m.avg_loss is None


def test_a_total_loss_gives_minus_one_annual_return() -> None:
    m = compute_metrics(DAYS[:3], [100.0, 50.0, 0.0])
    assert m.total_return == -1.0 and m.annual_return == -1.0 and m.max_drawdown == 1.0


def test_mismatched_inputs_are_clear_errors() -> None:
    with pytest.raises(InvalidInputError, match="timestamps"):
        compute_metrics(DAYS, VALUES[:3])
    with pytest.raises(InvalidInputError, match="close series of A"):
        compute_metrics(DAYS, VALUES, closes={"A": [1.0]})
    with pytest.raises(InvalidInputError, match="finite"):
        compute_metrics(DAYS[:2], [1.0, math.nan])
