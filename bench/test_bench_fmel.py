"""FMEL overhead benchmark (SPEC §12: FMEL-on <= 1.15x FMEL-off on the same backtest).

Run with `pytest -m benchmark bench/test_bench_fmel.py -s`. Times are process CPU seconds (all
threads, so the recorder's flusher counts), best of `REPEATS` interleaved runs, which keeps the
ratio steady on a machine shared with other work.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import backtrader as bt
import pandas as pd
import pytest

from bench.workloads import SmaCross, frames
from shared.fmel import FmelAnalyzer, FmelRecorder
from shared.market.loader import make_feed

pytestmark = pytest.mark.benchmark
REPEATS = 3
TARGET = 1.15


def backtest(data: dict[str, pd.DataFrame], timeframe: str, sink: str, tmp: Path) -> tuple[float, int]:
    """Run once; return (CPU seconds including the recorder's final flush, decisions recorded)."""
    cerebro = bt.Cerebro(stdstats=False)
    for symbol, frame in data.items():
        cerebro.adddata(make_feed(symbol, frame, timeframe))
    cerebro.addstrategy(SmaCross)
    # The in-memory sink keeps only recent rows, as a drained batch buffer would: keeping 100k
    # rows alive would measure Python's garbage collector walking them, not FMEL.
    rows: deque[dict] = deque(maxlen=1000)
    recorded = [0]

    def memory_sink(row: dict) -> None:
        rows.append(row)
        recorded[0] += 1

    recorder = None
    if sink == "memory":
        cerebro.addanalyzer(FmelAnalyzer, sink=memory_sink)
    elif sink == "duckdb":
        from shared.adapters.local.warehouse import DuckDbWarehouse

        warehouse = DuckDbWarehouse(tmp / f"wh-{time.monotonic_ns()}.duckdb")
        warehouse.ensure_tables()
        recorder = FmelRecorder(warehouse, tmp / "spill")
        cerebro.addanalyzer(FmelAnalyzer, sink=recorder.add)
    started = time.process_time()
    strat = cerebro.run()[0]
    if recorder:
        recorder.close()
    elapsed = time.process_time() - started
    if recorder:
        assert recorder.stats()["written"] == recorder.stats()["recorded"] > 0
        return elapsed, recorder.stats()["written"]
    return elapsed, recorded[0] if sink == "memory" else len(strat)


def measure(data: dict[str, pd.DataFrame], timeframe: str, tmp: Path) -> dict[str, float]:
    sinks = ["off", "memory"]
    try:
        import shared.adapters.local.warehouse  # noqa: F401

        sinks.append("duckdb")
    except ImportError:
        print("DuckDbWarehouse not available: recorder variant skipped")
    best: dict[str, float] = {s: float("inf") for s in sinks}
    for _ in range(REPEATS):
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
        ("daily 20 symbols x 2 years", 20, "1Day", datetime(2023, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)),
        ("minute 1 symbol x ~100k bars", 1, "1Min", datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)),
    ],
    ids=["daily", "minute"],
)
def test_fmel_overhead_is_within_target(case: tuple, tmp_path: Path, capsys: Callable) -> None:
    name, symbols, timeframe, start, end = case
    data = frames(symbols, timeframe, start, end)
    best = measure(data, timeframe, tmp_path)
    report(name, best)
    ratio = best["memory"] / best["off"]
    assert ratio <= TARGET, f"{name}: FMEL-on is {ratio:.3f}x FMEL-off (target {TARGET}x)"
