"""FMEL overhead benchmark (SPEC §12: FMEL-on <= 1.15x FMEL-off on the same backtest).

Run with `pytest -m benchmark bench/test_bench_fmel.py -s`. Times are process CPU seconds (all
threads, so the recorder's flusher counts), best of `repeats` interleaved runs, which keeps the
ratio steady on a machine shared with other work: a 2-core VM whose CPU time for the same run
varies by 10-20% from one run to the next, so the short daily case runs more often. Garbage the
previous run left (backtrader's object graph is cyclic) is collected before each timed run, so
it is not charged to whichever variant the collector happens to wake up in.
"""

from __future__ import annotations

import gc
import time
from datetime import UTC, datetime
from pathlib import Path

import backtrader as bt
import pandas as pd
import pytest

from bench.workloads import RecentRows, SmaCross, frames
from shared.fmel import FmelAnalyzer, FmelRecorder
from shared.market.loader import make_feed

pytestmark = pytest.mark.benchmark
TARGET = 1.15


def backtest(data: dict[str, pd.DataFrame], timeframe: str, sink: str, tmp: Path) -> tuple[float, int]:
    """Run once; return (CPU seconds including the recorder's final flush, decisions recorded)."""
    cerebro = bt.Cerebro(stdstats=False)
    for symbol, frame in data.items():
        cerebro.adddata(make_feed(symbol, frame, timeframe))
    cerebro.addstrategy(SmaCross)
    memory = RecentRows()
    recorder = None
    if sink == "memory":
        cerebro.addanalyzer(FmelAnalyzer, sink=memory.add)
    elif sink == "duckdb":
        from shared.adapters.local.warehouse import DuckDbWarehouse

        warehouse = DuckDbWarehouse(tmp / f"wh-{time.monotonic_ns()}.duckdb")
        warehouse.ensure_tables()
        recorder = FmelRecorder(warehouse, tmp / "spill")
        cerebro.addanalyzer(FmelAnalyzer, sink=recorder.add)
    gc.collect()
    started = time.process_time()
    strat = cerebro.run()[0]
    if recorder:
        recorder.close()
    elapsed = time.process_time() - started
    if recorder:
        assert recorder.stats()["written"] == recorder.stats()["recorded"] > 0
        return elapsed, recorder.stats()["written"]
    return elapsed, memory.count if sink == "memory" else len(strat)


def measure(data: dict[str, pd.DataFrame], timeframe: str, tmp: Path, repeats: int) -> dict[str, float]:
    sinks = ["off", "memory"]
    try:
        import shared.adapters.local.warehouse  # noqa: F401

        sinks.append("duckdb")
    except ImportError:
        print("DuckDbWarehouse not available: recorder variant skipped")
    best: dict[str, float] = {s: float("inf") for s in sinks}
    for _ in range(repeats):
        for sink in sinks:
            seconds, _count = backtest(data, timeframe, sink, tmp)
            best[sink] = min(best[sink], seconds)
    return best


def report(name: str, best: dict[str, float]) -> None:
    base = best["off"]
    parts = [f"{sink} {sec:.2f}s ({sec / base:.3f}x)" for sink, sec in best.items()]
    print(f"\n{name}: " + ", ".join(parts))


@pytest.mark.parametrize(
    "case",
    [
        ("daily 20 symbols x 2 years", 20, "1Day",
         datetime(2023, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC), 9),
        ("minute 1 symbol x ~100k bars", 1, "1Min",
         datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC), 5),
    ],
    ids=["daily", "minute"],
)
def test_fmel_overhead_is_within_target(case: tuple, tmp_path: Path) -> None:
    name, symbols, timeframe, start, end, repeats = case
    data = frames(symbols, timeframe, start, end)
    best = measure(data, timeframe, tmp_path, repeats)
    report(name, best)
    ratio = best["memory"] / best["off"]
    assert ratio <= TARGET, f"{name}: FMEL-on is {ratio:.3f}x FMEL-off (target {TARGET}x)"
