"""The local replay skips closed market hours: the bar after the close follows one interval later.

A real replay server on 127.0.0.1 at 60x (one market minute per wall second) streams the last
two minutes of a Friday and the first two of the Monday after; a real WebSocket client reads.
Without skipping, the weekend would take 65 wall-clock minutes at that speed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from websockets.sync.client import connect

from shared.venues.simulated.market_data import ReplayServer, ReplayServerThread
from shared.venues.simulated.timelines import Step

FRIDAY_CLOSE = datetime(2025, 1, 10, 20, 58, tzinfo=UTC)  # 15:58 New York
MONDAY_OPEN = datetime(2025, 1, 13, 14, 30, tzinfo=UTC)  # 09:30 New York
STAMPS = [FRIDAY_CLOSE, FRIDAY_CLOSE + timedelta(minutes=1), MONDAY_OPEN, MONDAY_OPEN + timedelta(minutes=1)]


class Weekend:
    """Four one-minute bars of AAPL around a weekend."""

    def steps(self, symbols: Sequence[str], *, after: datetime | None = None) -> Iterator[Step]:
        for n, stamp in enumerate(STAMPS):
            if after is None or stamp > after:
                yield stamp, [{"T": "b", "S": "AAPL", "o": 1.0 + n, "h": 2.0, "l": 1.0, "c": 1.5, "v": 10.0,
                               "t": stamp, "n": 1, "vw": 1.5}]

    def news(self, symbols: Sequence[str], *, after: datetime | None = None) -> Iterator[Step]:
        return iter(())


def _bars_within(url: str, seconds: float) -> list[dict[str, Any]]:
    bars: list[dict[str, Any]] = []
    with connect(url + "/v2/iex") as ws:
        ws.recv(timeout=5)
        ws.send(json.dumps({"action": "auth", "key": "k", "secret": "s"}))
        assert "authenticated" in ws.recv(timeout=5)
        ws.send(json.dumps({"action": "subscribe", "bars": ["AAPL"]}))
        deadline = time.monotonic() + seconds
        while len(bars) < len(STAMPS) and time.monotonic() < deadline:
            try:
                frame = ws.recv(timeout=max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                break
            bars += [m for m in json.loads(frame) if m.get("T") == "b"]
    return bars


def test_the_weekend_is_skipped_so_monday_follows_friday_within_seconds() -> None:
    server = ReplayServerThread(ReplayServer(Weekend(), speed=60.0)).start()
    try:
        started = time.monotonic()
        bars = _bars_within(server.url, seconds=15)
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    assert [b["o"] for b in bars] == [1.0, 2.0, 3.0, 4.0]
    assert elapsed < 10  # three one-minute steps at 60x, the weekend counted as one of them
    assert server.server.skipped == MONDAY_OPEN - STAMPS[1] - timedelta(minutes=1)


def test_waiting_closed_hours_out_is_still_available_and_does_wait() -> None:
    server = ReplayServerThread(ReplayServer(Weekend(), speed=60.0, skip_closed=False)).start()
    try:
        bars = _bars_within(server.url, seconds=4)
    finally:
        server.stop()
    assert [b["o"] for b in bars] == [1.0, 2.0]  # Monday is an hour of wall time away
