"""The runtime's subscription filter fits Pub/Sub's 256-byte limit for any universe, and the bus
with the filter plus the router's in-process routing deliver exactly the agent's symbols."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from runtime.feeds import BusRouter, make_feed, subscription_filter
from shared.adapters.local.messages import EmbeddedMessageBus
from shared.market.universe import DEFAULT_SYMBOLS
from shared.messaging.filters import MAX_FILTER_LENGTH, parse_filter
from shared.schemas.topics import MARKET_DATA
from tests.unit.runtime.stack import publish_bars


@pytest.mark.parametrize("symbols", [["AAPL"], list(DEFAULT_SYMBOLS), [f"SYM{i}" for i in range(500)]])
def test_the_filter_parses_and_fits_the_limit_for_any_universe(symbols: list[str]) -> None:
    text = subscription_filter(symbols)
    assert len(text.encode()) <= MAX_FILTER_LENGTH
    matches = parse_filter(text)
    assert matches({"symbol": symbols[0], "type": "bar", "source": "replay"})
    assert not matches({"symbol": symbols[0], "type": "trade", "source": "replay"}) or len(symbols) == 1


def test_the_default_universe_once_464_bytes_now_subscribes_and_routes_only_its_symbols(tmp_path: Path) -> None:
    assert len(" OR ".join(f'attributes.symbol = "{s}"' for s in DEFAULT_SYMBOLS)) > MAX_FILTER_LENGTH
    bus = EmbeddedMessageBus(tmp_path / "messages.sqlite3")
    try:
        feeds = [make_feed(s) for s in DEFAULT_SYMBOLS]
        router = BusRouter(bus, [("runtime-s-market-data", MARKET_DATA)], feeds, wait_s=0.05)
        router.create()  # refused before: "filter is longer than 256 bytes"
        publish_bars(bus, "AAPL", range(3))
        publish_bars(bus, "ZZZZ", range(2))  # not the agent's: acknowledged and dropped in the process
        router.start()
        deadline = time.monotonic() + 10
        while router.routed + router.ignored < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        router.stop()
        assert (router.routed, router.ignored) == (3, 2)
    finally:
        bus.close()
