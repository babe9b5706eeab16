"""Embedded message bus throughput and latency (run with `make bench`, figures printed with -s).

Targets: publish of 1000-message batches >= 50,000 msg/s on one core with one subscription;
pull+ack of the same order; publish -> waiting pull p95 well under the platform's 20 ms.
Rates are per CPU second of this process (SQLite runs in-process), so a busy shared machine
does not distort them; wall-clock rates are printed alongside.
"""

from __future__ import annotations

import json
import multiprocessing
import statistics
import time
from pathlib import Path
from typing import Self

import pytest

from shared.adapters.local.messages import EmbeddedMessageBus
from shared.ports.messages import OutgoingMessage

pytestmark = pytest.mark.benchmark

BATCH = 1000
BATCHES = 50
PUBLISH_TARGET = 50_000


def bar_batch(size: int) -> list[OutgoingMessage]:
    """Messages shaped like the ingester's bars: ~150 bytes of JSON and three attributes."""
    symbols = ("AAPL", "MSFT", "NVDA", "AMZN", "TSLA")
    return [
        OutgoingMessage(
            json.dumps(
                {
                    "schema_version": 1,
                    "S": symbols[i % 5],
                    "o": 101.2,
                    "h": 102.5,
                    "l": 100.9,
                    "c": 101.7,
                    "v": 12345 + i,
                    "t": "2026-01-02T14:30:00Z",
                    "vw": 101.6,
                }
            ).encode(),
            {"symbol": symbols[i % 5], "type": "bar", "source": "iex"},
        )
        for i in range(size)
    ]


def report(name: str, value: float, unit: str) -> None:
    print(f"\n[bench] {name}: {value:,.1f} {unit}")


class Meter:
    """Count messages over CPU time and wall time."""

    def __enter__(self) -> Self:
        self.cpu, self.wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu = time.process_time() - self.cpu
        self.wall = time.perf_counter() - self.wall

    def rates(self, name: str, count: int) -> float:
        """Print both rates; return messages per CPU second."""
        report(f"{name} (per CPU second)", count / self.cpu, "msg/s")
        report(f"{name} (wall clock)", count / self.wall, "msg/s")
        return count / self.cpu


def test_publish_and_pull_ack_throughput_in_batches_of_1000(tmp_path: Path) -> None:
    bus = EmbeddedMessageBus(tmp_path / "bench.sqlite3")
    bus.create_topic("market-data")
    bus.create_subscription("strategy", "market-data", ack_deadline_s=60)
    batch = bar_batch(BATCH)

    with Meter() as publishing:
        for _ in range(BATCHES):
            bus.publish("market-data", batch)
    publish_rate = publishing.rates("publish, batches of 1000, one subscription", BATCH * BATCHES)

    consumed = 0
    with Meter() as pulling:
        while received := bus.pull("strategy", max_messages=BATCH):
            bus.ack("strategy", [m.ack_id for m in received])
            consumed += len(received)
    pull_ack_rate = pulling.rates("pull+ack, batches of 1000", consumed)
    assert consumed == BATCH * BATCHES
    assert publish_rate >= PUBLISH_TARGET
    assert pull_ack_rate >= PUBLISH_TARGET / 10  # same order of magnitude


def test_publish_throughput_with_filtered_fan_out_to_five_subscriptions(tmp_path: Path) -> None:
    bus = EmbeddedMessageBus(tmp_path / "bench.sqlite3")
    bus.create_topic("market-data")
    for symbol in ("AAPL", "MSFT", "NVDA", "AMZN", "TSLA"):
        bus.create_subscription(
            f"agent-{symbol}", "market-data", filter=f'attributes.symbol = "{symbol}"'
        )
    batch = bar_batch(BATCH)
    with Meter() as publishing:
        for _ in range(BATCHES):
            bus.publish("market-data", batch)
    rate = publishing.rates(
        "publish, batches of 1000, five filtered subscriptions", BATCH * BATCHES
    )
    assert rate >= PUBLISH_TARGET / 2


def publish_stamped(db: str, count: int, interval_s: float) -> None:
    """Publish `count` messages carrying their send time, one every `interval_s`."""
    bus = EmbeddedMessageBus(Path(db))
    for _ in range(count):
        bus.publish("market-data", [OutgoingMessage(repr(time.time()).encode())])
        time.sleep(interval_s)


def test_latency_from_publish_in_another_process_to_a_waiting_pull(tmp_path: Path) -> None:
    db = tmp_path / "bench.sqlite3"
    bus = EmbeddedMessageBus(db)
    bus.create_topic("market-data")
    bus.create_subscription("strategy", "market-data")
    count = 300
    publisher = multiprocessing.get_context("spawn").Process(
        target=publish_stamped, args=(str(db), count, 0.01)
    )
    publisher.start()
    latencies: list[float] = []
    try:
        while len(latencies) < count:
            received = bus.pull("strategy", max_messages=10, timeout_s=30)
            now = time.time()
            assert received, "publisher stopped sending"
            latencies.extend((now - float(m.data)) * 1000 for m in received)
            bus.ack("strategy", [m.ack_id for m in received])
    finally:
        publisher.join(timeout=30)
        if publisher.is_alive():
            publisher.kill()
    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[-1]
    report("publish -> waiting pull latency p50", p50, "ms")
    report("publish -> waiting pull latency p95", p95, "ms")
    assert p95 < 20
