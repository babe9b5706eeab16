"""Counters the ingest pipeline and the stream clients keep, rendered as Prometheus text."""

from __future__ import annotations

import bisect
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from shared.ports.messages import OutgoingMessage

# Publish latency buckets (seconds), from frame received to publish confirmed.
LATENCY_BUCKETS: tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class IngestStats:
    """Mutable counters; read by `/metrics`, written by the pipeline and the stream clients."""

    messages_in: Counter[str] = field(default_factory=Counter)  # by message type
    messages_out: Counter[str] = field(default_factory=Counter)  # by message type
    duplicates: int = 0
    publish_failures: int = 0
    archive_failures: int = 0
    archived: int = 0
    malformed_frames: Counter[str] = field(default_factory=Counter)  # by stream
    reconnects: Counter[str] = field(default_factory=Counter)  # by stream
    control_errors: Counter[str] = field(default_factory=Counter)  # by Alpaca error code
    silent_disconnects: int = 0
    last_message_at: dict[str, float] = field(default_factory=dict)  # stream -> wall clock
    latency_buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    latency_sum: float = 0.0
    latency_count: int = 0
    publish_call_seconds: float = 0.0
    publish_calls: int = 0

    def count_in(self, kind: str) -> None:
        """Count one message received."""
        self.messages_in[kind] += 1

    def record_publish(
        self, topic: str, messages: Sequence[OutgoingMessage], received: Sequence[float], done: float, call_s: float
    ) -> None:
        """Count a published batch and each message's latency since it was received."""
        if len(messages) != len(received):
            raise ValueError(f"{len(messages)} messages but {len(received)} receive times")
        self.messages_out.update(m.attributes.get("type", "unknown") for m in messages)
        # A frame's messages share one receive time: one bucket update per distinct time.
        buckets = self.latency_buckets
        for at, count in Counter(received).items():
            latency = done - at
            buckets[bisect.bisect_left(LATENCY_BUCKETS, latency)] += count
            self.latency_sum += latency * count
        self.latency_count += len(messages)
        self.publish_calls += 1
        self.publish_call_seconds += call_s

    def touch(self, stream: str) -> None:
        """Note that `stream` delivered a message now."""
        self.last_message_at[stream] = time.time()

    def render(self, *, prefix: str = "ingester") -> str:
        """Return the counters in Prometheus text exposition format."""
        lines: list[str] = []

        def metric(name: str, kind: str, help_: str, samples: list[tuple[str, float]]) -> None:
            lines.append(f"# HELP {prefix}_{name} {help_}")
            lines.append(f"# TYPE {prefix}_{name} {kind}")
            lines.extend(f"{prefix}_{name}{labels} {value:g}" for labels, value in samples)

        def by(label: str, counter: Counter[str] | dict[str, float]) -> list[tuple[str, float]]:
            return [(f'{{{label}="{key}"}}', value) for key, value in sorted(counter.items())]

        metric("messages_in_total", "counter", "Data messages received, by type.", by("type", self.messages_in))
        metric("messages_out_total", "counter", "Messages published, by type.", by("type", self.messages_out))
        metric("duplicates_total", "counter", "Messages dropped as repeats.", [("", self.duplicates)])
        metric("malformed_frames_total", "counter", "Frames that could not be parsed, by stream.",
               by("stream", self.malformed_frames))
        metric("reconnects_total", "counter", "Stream reconnects, by stream.", by("stream", self.reconnects))
        metric("control_errors_total", "counter", "Alpaca error messages, by code.", by("code", self.control_errors))
        metric("silent_disconnects_total", "counter", "Connections dropped for silence.",
               [("", self.silent_disconnects)])
        metric("publish_failures_total", "counter", "Publish calls that failed (retried).",
               [("", self.publish_failures)])
        metric("archive_failures_total", "counter", "Archive inserts that failed (retried).",
               [("", self.archive_failures)])
        metric("archived_rows_total", "counter", "Rows written to the warehouse.", [("", self.archived)])
        now = time.time()
        metric("last_message_age_seconds", "gauge", "Seconds since the stream's last message.",
               [(f'{{stream="{s}"}}', now - at) for s, at in sorted(self.last_message_at.items())])
        cumulative = 0
        samples: list[tuple[str, float]] = []
        for bound, count in zip((*LATENCY_BUCKETS, float("inf")), self.latency_buckets, strict=True):
            cumulative += count
            samples.append((f'_bucket{{le="{"+Inf" if bound == float("inf") else bound}"}}', cumulative))
        samples += [("_sum", self.latency_sum), ("_count", self.latency_count)]
        lines.append(f"# HELP {prefix}_publish_latency_seconds Frame received to publish confirmed.")
        lines.append(f"# TYPE {prefix}_publish_latency_seconds histogram")
        lines.extend(f"{prefix}_publish_latency_seconds{suffix} {value:g}" for suffix, value in samples)
        return "\n".join(lines) + "\n"
