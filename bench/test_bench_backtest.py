"""Backtest benchmarks (SPEC §12): platform throughput vs bare backtrader, and FMEL overhead.

Run with `pytest -m benchmark bench/test_bench_backtest.py -s`. Same strategy, same bars:
bare = cerebro + feeds + strategy only; platform = `run_strategy` without FMEL (equity,
exposure, trades and metrics included); fmel = `run_strategy` with FMEL into memory. Times are
process CPU seconds, best of REPEATS interleaved runs (the machine is shared).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import backtrader as bt
import pandas as pd
import pytest

from shared.backtest.engine import FmelContext, run_strategy
from shared.market.bars import bar_to_row
from shared.market.loader import _frame, make_feed
from shared.market.synthetic import generate_bars

pytestmark = pytest.mark.benchmark
REPEATS = 3


class SmaCross(bt.Strategy):
    """Buy on the 10/30 SMA cross up, close on the cross down."""

    def __init__(self) -> None:
        self.cross = {d: bt.ind.CrossOver(bt.ind.SMA(d, period=10), bt.ind.SMA(d, period=30)) for d in self.datas}

    def next(self) -> None:
        for data in self.datas:
            held = self.getposition(data).size
            if not held and self.cross[data][0] > 0:
                self.buy(data=data, size=10)
            elif held and self.cross[data][0] < 0:
                self.close(data=data)


def frames(symbols: int, timeframe: str, start: datetime, end: datetime) -> dict[str, pd.DataFrame]:
    bars = generate_bars([f"S{i:02d}" for i in range(symbols)], start, end, timeframe)
    return {s: _frame([bar_to_row(b) for b in bs]) for s, bs in bars.items()}


def bare(data: dict[str, pd.DataFrame], timeframe: str) -> None:
    cerebro = bt.Cerebro(stdstats=False)
    for symbol, frame in data.items():
        cerebro.adddata(make_feed(symbol, frame, timeframe))
    cerebro.broker.setcash(25_000.0)
    cerebro.addstrategy(SmaCross)
    cerebro.run()


def measure(data: dict[str, pd.DataFrame], timeframe: str) -> dict[str, float]:
    runs = {
        "bare": lambda: bare(data, timeframe),
        "platform": lambda: run_strategy(SmaCross, data, timeframe=timeframe),
        "fmel": lambda: run_strategy(SmaCross, data, timeframe=timeframe,
                                     fmel=FmelContext(agent_id="a", user_id="u", session_id="s", sink=[].append)),
    }
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(REPEATS):
        for name, fn in runs.items():
            started = time.process_time()
            fn()
            best[name] = min(best[name], time.process_time() - started)
    return best


@pytest.mark.parametrize(
    ("label", "symbols", "timeframe", "start", "end"),
    [
        ("20 symbols x 2 years daily", 20, "1Day", datetime(2023, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)),
        # 257 trading days x 390 minutes = 100,230 bars
        ("1 symbol x 100k minute bars", 1, "1Min", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 12, 31, tzinfo=UTC)),
    ],
)
def test_platform_throughput_and_fmel_overhead(label, symbols, timeframe, start, end) -> None:
    data = frames(symbols, timeframe, start, end)
    bars = sum(len(f) for f in data.values())
    best = measure(data, timeframe)
    throughput = best["bare"] / best["platform"]
    overhead = best["fmel"] / best["platform"]
    print(f"\n{label} ({bars} bars): bare {best['bare']:.2f}s, platform {best['platform']:.2f}s "
          f"(throughput {throughput:.1%} of bare), with FMEL {best['fmel']:.2f}s ({overhead:.2f}x)")
    assert bars > 0 and best["platform"] > 0
