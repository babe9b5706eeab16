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

from bench.workloads import SmaCross, frames
from shared.backtest.engine import FmelContext, run_strategy
from shared.market.loader import make_feed

pytestmark = pytest.mark.benchmark
REPEATS = 3


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
