"""Ingester benchmarks (SPEC §12): Alpaca frames parsed, normalised and published per second on one
core through the embedded message bus (target >= 50,000 msg/s), and end-to-end publish latency from
a replay server through the ingester to the bus.

    pytest -m benchmark bench/test_bench_ingester.py -s
"""

from __future__ import annotations

import asyncio
import time
from datetime import date
from pathlib import Path

import pytest

from ingester.app import Ingester, IngesterOptions
from ingester.symbols import SymbolSource
from shared.adapters.local.messages import EmbeddedMessageBus
from shared.services.ingest import IngestPipeline, PipelineConfig
from shared.services.ingest_stats import LATENCY_BUCKETS
from shared.venues.alpaca.config import AlpacaCredentials
from shared.venues.alpaca.events import parse_message
from shared.venues.alpaca.market_data import StreamConfig
from shared.venues.alpaca.protocol import decode_frame, encode_frame
from shared.venues.simulated.market_data import ReplayServer
from shared.venues.simulated.timelines import SyntheticTimeline
from tests.fakes.hostile_alpaca import make_bars

pytestmark = pytest.mark.benchmark
TARGET = 50_000
FRAMES, PER_FRAME = 1000, 100


def test_parse_normalise_publish_throughput_on_one_core(tmp_path: Path) -> None:
    symbols = [f"S{i:03d}" for i in range(PER_FRAME)]
    per_symbol = {s: make_bars(s, FRAMES) for s in symbols}
    frames = [encode_frame([per_symbol[s][i] for s in symbols]) for i in range(FRAMES)]
    bus = EmbeddedMessageBus(tmp_path / "m.sqlite3")
    bus.create_topic("market-data")
    bus.create_subscription("runtime", "market-data")
    pipeline = IngestPipeline(bus, None, config=PipelineConfig(publish_batch=1000, archive=False))
    cpu, wall = time.process_time(), time.perf_counter()
    for frame in frames:
        events = [parse_message(m) for m in decode_frame(frame)]
        pipeline.accept("stocks", "alpaca-iex", events)  # type: ignore[arg-type]
        if pipeline.backlog >= 1000:
            pipeline.publish_pending()
    pipeline.publish_pending()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    total = FRAMES * PER_FRAME
    bus.close()
    assert sum(pipeline.stats.messages_out.values()) == total
    print(f"\ningester pipeline: {total} msgs, {total / cpu:,.0f} msg/s per CPU second, "
          f"{total / wall:,.0f} msg/s wall ({cpu:.2f}s CPU, {wall:.2f}s wall)")
    assert total / cpu >= TARGET


def _percentile(buckets: list[int], q: float) -> float:
    total, running = sum(buckets), 0
    for bound, count in zip((*LATENCY_BUCKETS, float("inf")), buckets, strict=True):
        running += count
        if running >= q * total:
            return bound
    return float("inf")


def test_end_to_end_publish_latency_from_the_replay_server(tmp_path: Path) -> None:
    bus = EmbeddedMessageBus(tmp_path / "m.sqlite3")

    async def scenario() -> Ingester:
        # 16 symbols, one minute bar each every 20 ms of wall clock (speed 3000x).
        server = await ReplayServer(SyntheticTimeline(date(2024, 1, 2), end=date(2024, 1, 3)), speed=3000).start()
        stream = StreamConfig(name="stocks", kind="stocks", url=server.url + "/v2/iex", source="replay-iex")
        options = IngesterOptions(streams=(stream,), pipeline=PipelineConfig(publish_max_delay_s=0.005, archive=False),
                                  health_host="127.0.0.1", health_port=0)
        from shared.market import DEFAULT_SYMBOLS

        ingester = Ingester(options, bus=bus, warehouse=None, credentials=AlpacaCredentials("k", "s"),
                            symbols=SymbolSource(None, stocks=DEFAULT_SYMBOLS))
        task = asyncio.create_task(ingester.run())
        while ingester.stats.messages_out["bar"] < 16 * 390:
            await asyncio.sleep(0.05)
        ingester.stop()
        await task
        await server.stop()
        return ingester

    stats = asyncio.run(scenario()).stats
    bus.close()
    mean = stats.latency_sum / stats.latency_count
    p50, p95, p99 = (_percentile(stats.latency_buckets, q) for q in (0.5, 0.95, 0.99))
    print(f"\nend-to-end publish latency over {stats.latency_count} bars: mean {mean * 1000:.1f} ms, "
          f"p50 <= {p50 * 1000:g} ms, p95 <= {p95 * 1000:g} ms, p99 <= {p99 * 1000:g} ms")
    assert p95 <= 0.05
