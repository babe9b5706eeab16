"""Backtest benchmarks (SPEC §12): platform throughput vs bare backtrader, and FMEL overhead.

Run with `pytest -m benchmark bench/test_bench_backtest.py -s`. Same strategy, same bars:
bare = cerebro + feeds + strategy only; platform = `run_strategy` without FMEL (equity,
exposure, trades and metrics included); fmel = `run_strategy` with FMEL into memory. Times are
process CPU seconds, best of `repeats` interleaved runs (the machine is shared), each after
collecting the garbage earlier runs left (backtrader's object graph is cyclic).

The FMEL overhead (fmel / platform, target <= 1.15x) is FMEL's cost as `bench/test_bench_fmel.py`
measures it, over a larger baseline: the platform's equity recorder and metrics are in both
runs, so the same seconds of FMEL make a slightly smaller ratio here. Its sink is the same
`RecentRows` as there, a drained buffer: an earlier version appended every row to a list, which
charged FMEL for the garbage collector walking 100k live rows and for freeing them.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from datetime import UTC, datetime

import backtrader as bt
import pandas as pd
import pytest

from bench.workloads import RecentRows, SmaCross, frames
from shared.backtest.engine import FmelContext, run_strategy
from shared.market.loader import make_feed

pytestmark = pytest.mark.benchmark
FMEL_TARGET = 1.15


def bare(data: dict[str, pd.DataFrame], timeframe: str) -> None:
    cerebro = bt.Cerebro(stdstats=False)
    for symbol, frame in data.items():
        cerebro.adddata(make_feed(symbol, frame, timeframe))
    cerebro.broker.setcash(25_000.0)
    cerebro.addstrategy(SmaCross)
    cerebro.run()


def with_fmel(data: dict[str, pd.DataFrame], timeframe: str) -> None:
    sink = RecentRows()
    fmel = FmelContext(agent_id="a", user_id="u", session_id="s", sink=sink.add)
    result = run_strategy(SmaCross, data, timeframe=timeframe, fmel=fmel)
    assert result.decisions == sink.count > 0


def cpu_seconds(run: Callable[[], object]) -> float:
    gc.collect()
    started = time.process_time()
    run()
    return time.process_time() - started


def measure(data: dict[str, pd.DataFrame], timeframe: str, repeats: int) -> dict[str, float]:
    runs = {
        "bare": lambda: bare(data, timeframe),
        "platform": lambda: run_strategy(SmaCross, data, timeframe=timeframe),
        "fmel": lambda: with_fmel(data, timeframe),
    }
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            best[name] = min(best[name], cpu_seconds(run))
    return best


@pytest.mark.parametrize(
    ("label", "symbols", "timeframe", "start", "end", "repeats"),
    [
        ("20 symbols x 2 years daily", 20, "1Day", datetime(2023, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC), 9),
        # 257 trading days x 390 minutes = 100,230 bars
        ("1 symbol x 100k minute bars", 1, "1Min", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 12, 31, tzinfo=UTC), 5),
    ],
)
def test_platform_throughput_and_fmel_overhead(label, symbols, timeframe, start, end, repeats) -> None:
    data = frames(symbols, timeframe, start, end)
    bars = sum(len(f) for f in data.values())
    best = measure(data, timeframe, repeats)
    throughput = best["bare"] / best["platform"]
    overhead = best["fmel"] / best["platform"]
    print(f"\n{label} ({bars} bars): bare {best['bare']:.2f}s, platform {best['platform']:.2f}s "
          f"(throughput {throughput:.1%} of bare), with FMEL {best['fmel']:.2f}s ({overhead:.3f}x)")
    assert bars > 0 and best["platform"] > 0
    assert overhead <= FMEL_TARGET, f"{label}: FMEL-on is {overhead:.3f}x FMEL-off (target {FMEL_TARGET}x)"
