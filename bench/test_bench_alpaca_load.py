"""`farm data alpaca` throughput and peak memory on a synthetic Alpaca server (`make bench`).

The command runs as users run it (`python -m farm data alpaca`, local warehouse) against a
server process that makes minute bars up on request. Peak RSS must stay flat as the download
doubles (pages are written as they arrive), and the rate of the largest run gives the estimate for
100 symbols x 2 years (~19.7M bars). Alpaca itself allows ~200 requests a minute on the free
plan, i.e. ~2M bars a minute at 10,000 a page, which bounds a real download too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.alpaca_synthetic import KEY, MINUTES, SECRET

ROOT = Path(__file__).resolve().parents[1]
FULL_BARS = 100 * 504 * MINUTES  # 100 symbols x 2 years of regular-session minutes
ALPACA_PAGES_PER_S = 200 / 60
# `farm` as `python -m farm` runs it, printing its own peak RSS (VmHWM) on the way out. getrusage
# would not do: a child's ru_maxrss starts at its parent's size when it forked.
FARM_REPORTING_PEAK = (
    "import atexit, runpy, sys\n"
    "atexit.register(lambda: sys.stderr.write([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]))\n"
    "sys.argv[0] = 'farm'\n"
    "runpy.run_module('farm', run_name='__main__')\n"
)


def load(tmp_path: Path, symbols: int, days: int) -> tuple[int, float, int]:
    """Run `farm data alpaca`; return (bars written, seconds, peak RSS in bytes)."""
    server = subprocess.Popen([sys.executable, str(ROOT / "bench" / "alpaca_synthetic.py"), str(symbols), str(days)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        env = {k: v for k, v in os.environ.items() if not k.startswith("FARM_")}
        env.update(FARM_DATA_DIR=str(tmp_path / f"data-{symbols}-{days}"), APCA_API_KEY_ID=KEY,
                   APCA_API_SECRET_KEY=SECRET, APCA_API_DATA_URL=f"http://127.0.0.1:{port}")
        names = ",".join(f"S{i:03d}" for i in range(symbols))
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", FARM_REPORTING_PEAK, "data", "alpaca", "--symbols", names,
                               "--start", "2023-01-01", "--end", "2026-01-01", "--timeframe", "1Min"],
                              cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - started
        assert done.returncode == 0, done.stderr
        written = int(done.stdout.split("wrote ")[1].split()[0])
        peak_kib = int(done.stderr.rsplit("VmHWM:", 1)[1].split()[0])
        return written, elapsed, peak_kib * 1024
    finally:
        server.kill()
        server.wait()


@pytest.mark.benchmark
def test_farm_data_alpaca_streams_in_bounded_memory(tmp_path: Path) -> None:
    # One day of one symbol shows the command's own footprint (imports, DuckDB). Both larger runs
    # write enough segments for the background merge to run too; the second has twice the bars.
    sizes = {"baseline": (1, 1), "medium": (40, 60), "large": (80, 60)}
    runs = {label: load(tmp_path, *size) for label, size in sizes.items()}
    for label, (bars, seconds, rss) in runs.items():
        print(f"\n{label}: {bars:,} bars in {seconds:.1f}s = {bars / seconds:,.0f} bars/s, "
              f"peak RSS {rss / 2**20:.0f} MiB")
    assert all(runs[label][0] == s * d * MINUTES for label, (s, d) in sizes.items())
    bars, seconds, rss = runs["large"]
    rate = bars / seconds
    local_s, alpaca_s = FULL_BARS / rate, FULL_BARS / 10_000 / ALPACA_PAGES_PER_S
    print(f"100 symbols x 2 years = {FULL_BARS:,} bars: ~{local_s / 60:.0f} min of loading at this rate "
          f"(Alpaca's 200 requests/min alone: ~{alpaca_s / 60:.0f} min), peak RSS ~{rss / 2**20:.0f} MiB "
          f"({(rss - runs['baseline'][2]) / 2**20:.0f} MiB over the command's own footprint)")
    assert rss < runs["medium"][2] * 1.15  # twice the bars, the same memory: bounded, not growing
