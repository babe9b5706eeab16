"""The ingester end to end: against the replay server, a hostile fake, and alpaca-py as a witness.

Real WebSocket servers on 127.0.0.1, the real embedded message bus; only Alpaca is stood in for.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ingester.app import Ingester, IngesterOptions
from ingester.symbols import SymbolSource
from shared.adapters.local.messages import EmbeddedMessageBus
from shared.market import messages as market_messages
from shared.services.ingest import PipelineConfig
from shared.venues.alpaca.config import AlpacaCredentials
from shared.venues.alpaca.market_data import StreamConfig
from shared.venues.simulated.market_data import ReplayServer, ReplayServerThread
from shared.venues.simulated.timelines import SyntheticTimeline
from tests.fakes.hostile_alpaca import MALFORMED_FRAMES, HostileAlpaca, Plan, make_bars

DAY = date(2024, 1, 2)
FAST = {"backoff_base_s": 0.05, "backoff_cap_s": 0.2, "connection_limit_wait_s": 0.4, "auth_failure_wait_s": 5.0}


def stock_stream(url: str, **overrides: object) -> StreamConfig:
    fields = {"name": "stocks", "kind": "stocks", "url": url, "source": "test-iex", "silence_s": 0.5,
              "pong_timeout_s": 0.3} | FAST | overrides
    return StreamConfig(**fields)  # type: ignore[arg-type]


def make_ingester(bus: EmbeddedMessageBus, *streams: StreamConfig, symbols: SymbolSource,
                  key: str = "k", secret: str = "s") -> Ingester:
    options = IngesterOptions(streams=streams, pipeline=PipelineConfig(publish_max_delay_s=0.01, archive=False),
                              health_host="127.0.0.1", health_port=0, reload_s=0.2)
    return Ingester(options, bus=bus, warehouse=None, credentials=AlpacaCredentials(key, secret), symbols=symbols)


@pytest.fixture
def bus(tmp_path: Path):
    bus = EmbeddedMessageBus(tmp_path / "messages.sqlite3")
    for topic in ("market-data", "crypto-data", "news-data"):
        bus.create_topic(topic)
        bus.create_subscription(f"{topic}-all", topic)
    yield bus
    bus.close()


def drain(bus: EmbeddedMessageBus, topic: str) -> list[market_messages.MarketMessage]:
    out = []
    while batch := bus.pull(f"{topic}-all", max_messages=1000):
        out += [market_messages.decode(m.data) for m in batch]
        bus.ack(f"{topic}-all", [m.ack_id for m in batch])
    return out


async def run_until(ingester: Ingester, done: Callable[[], bool], timeout_s: float = 15.0,
                    during: Callable[[], Awaitable[None]] | None = None) -> None:
    task = asyncio.create_task(ingester.run())
    deadline = asyncio.get_running_loop().time() + timeout_s
    try:
        if during is not None:
            await during()
        while not done() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
    finally:
        ingester.stop()
        await task


def test_hostile_server_causes_no_crash_no_duplicate_and_no_gap(bus: EmbeddedMessageBus, caplog) -> None:
    bars = make_bars("AAPL", 10)
    plans = [
        Plan(auth_error=406),  # another connection holds the slot: wait, then retry
        Plan(bars=bars[0:5], malformed=MALFORMED_FRAMES, end="drop_mid_frame"),
        Plan(bars=bars[3:8], end="silent"),  # re-sends 3 and 4, then no data and no pongs
        Plan(bars=bars[6:10], end="stay"),  # re-sends 6 and 7
    ]

    async def scenario() -> Ingester:
        fake = await HostileAlpaca(plans).start()
        ingester = make_ingester(bus, stock_stream(fake.url), symbols=SymbolSource(None, stocks=("AAPL",)))
        await run_until(ingester, lambda: sum(ingester.stats.messages_out.values()) >= 10 and fake.connections >= 4)
        await fake.stop()
        assert fake.connected_at[1] - fake.connected_at[0] >= 0.4 * 0.5  # waited after 406 (jitterless hint)
        assert fake.actions[0] == {"action": "auth", "key": "k", "secret": "s"}
        return ingester

    ingester = asyncio.run(scenario())
    published = drain(bus, "market-data")
    stamps = [m.bar.timestamp for m in published]
    assert stamps == [b["t"] for b in bars]  # every bar once, in order: no gap, no duplicate
    assert ingester.stats.duplicates == 4
    assert ingester.stats.malformed_frames["stocks"] == len(MALFORMED_FRAMES)
    assert sum("malformed frame skipped" in r.message for r in caplog.records) == len(MALFORMED_FRAMES)
    assert ingester.stats.control_errors["406"] == 1
    assert ingester.stats.silent_disconnects == 1
    assert ingester.stats.reconnects["stocks"] >= 3


def test_replayed_day_is_published_once_per_bar_with_the_bar_hash(bus: EmbeddedMessageBus) -> None:
    async def scenario() -> Ingester:
        server = await ReplayServer(SyntheticTimeline(DAY, end=date(2024, 1, 3)), speed=0).start()
        ingester = make_ingester(
            bus, stock_stream(server.url + "/v2/iex"),
            StreamConfig(name="crypto", kind="crypto", url=server.url + "/v1beta3/crypto/us", source="replay-crypto"),
            StreamConfig(name="news", kind="news", url=server.url + "/v1beta1/news", source="replay-news"),
            symbols=SymbolSource(None, stocks=("AAPL", "MSFT"), crypto=("BTC/USD",)),
        )
        await run_until(ingester, lambda: ingester.stats.messages_out["bar"] >= 3 * 390
                        and ingester.stats.messages_out["news"] >= 13)
        await server.stop()
        return ingester

    ingester = asyncio.run(scenario())
    stocks, crypto, news = (drain(bus, t) for t in ("market-data", "crypto-data", "news-data"))
    assert len(stocks) == 2 * 390 and len({m.data_hash for m in stocks}) == 2 * 390
    assert {m.bar.symbol for m in stocks} == {"AAPL", "MSFT"} and {m.bar.symbol for m in crypto} == {"BTC/USD"}
    assert all(m.data_hash == market_messages.bar_hash(m.bar) for m in stocks + crypto)
    assert news and all(m.headline.startswith("[synthetic]") for m in news)
    assert ingester.stats.malformed_frames == {} and ingester.stats.duplicates == 0


def test_alpaca_py_stock_stream_receives_the_same_bars_as_the_ingester(bus: EmbeddedMessageBus) -> None:
    from alpaca.data.live import StockDataStream

    server = ReplayServerThread(ReplayServer(SyntheticTimeline(DAY, end=date(2024, 1, 3)), speed=0)).start()
    try:
        witness: list = []
        stream = StockDataStream("key", "secret", url_override=server.url + "/v2/iex")

        async def on_bar(bar) -> None:
            witness.append(bar)
            if len(witness) == 40:
                await stream.stop_ws()

        stream.subscribe_bars(on_bar, "AAPL", "MSFT")
        thread = threading.Thread(target=stream.run, daemon=True)
        thread.start()
        thread.join(20)
        assert len(witness) == 40

        async def scenario() -> None:
            ingester = make_ingester(bus, stock_stream(server.url + "/v2/iex"),
                                     symbols=SymbolSource(None, stocks=("AAPL", "MSFT")))
            await run_until(ingester, lambda: ingester.stats.messages_out["bar"] >= 40)

        asyncio.run(scenario())
    finally:
        server.stop()
    ours = [(m.bar.symbol, m.bar.timestamp, m.bar.open, m.bar.close, m.bar.volume, m.bar.vwap)
            for m in drain(bus, "market-data")[:40]]
    theirs = [(b.symbol, b.timestamp, b.open, b.close, b.volume, b.vwap) for b in witness]
    assert ours == theirs


def test_symbol_limit_405_makes_the_ingester_subscribe_fewer(bus: EmbeddedMessageBus, caplog) -> None:
    async def scenario() -> Ingester:
        server = await ReplayServer(SyntheticTimeline(DAY, end=date(2024, 1, 3)), speed=0, max_symbols=2).start()
        ingester = make_ingester(bus, stock_stream(server.url + "/v2/iex"),
                                 symbols=SymbolSource(None, stocks=("AAPL", "MSFT", "SPY", "JPM")))
        await run_until(ingester, lambda: ingester.stats.messages_out["bar"] >= 2 * 390)
        await server.stop()
        return ingester

    ingester = asyncio.run(scenario())
    assert {m.bar.symbol for m in drain(bus, "market-data")} == {"AAPL", "MSFT"}
    assert ingester.stats.control_errors["405"] == 1
    assert any("subscribing to 2 of 4 symbols" in r.message for r in caplog.records)


def test_wrong_keys_402_are_reported_clearly_and_never_logged(bus: EmbeddedMessageBus, caplog) -> None:
    async def scenario() -> Ingester:
        server = await ReplayServer(SyntheticTimeline(DAY), speed=0, key="right", secret="s3cret").start()
        ingester = make_ingester(bus, stock_stream(server.url + "/v2/iex"), key="wrong", secret="hunter2",
                                 symbols=SymbolSource(None, stocks=("AAPL",)))
        await run_until(ingester, lambda: ingester.stats.control_errors["402"] >= 1, timeout_s=5)
        assert not ingester.ready()
        await server.stop()
        return ingester

    asyncio.run(scenario())
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "402" in text and "APCA_API_KEY_ID" in text and "hunter2" not in text


def test_symbols_changed_in_the_universe_document_are_subscribed_without_restart(
    bus: EmbeddedMessageBus, tmp_path: Path
) -> None:
    from shared.adapters.local.documents import SqliteDocumentStore

    documents = SqliteDocumentStore(tmp_path / "documents.sqlite3")
    documents.set("settings", "universe", {"symbols": ["AAPL"]})

    async def scenario() -> None:
        server = await ReplayServer(SyntheticTimeline(DAY, end=date(2024, 1, 3)), speed=2000).start()
        symbols = SymbolSource(documents)
        symbols.reload()
        ingester = make_ingester(bus, stock_stream(server.url + "/v2/iex", silence_s=5), symbols=symbols)

        async def change() -> None:
            while not ingester.stats.messages_out["bar"]:
                await asyncio.sleep(0.02)
            documents.set("settings", "universe", {"symbols": ["AAPL", "MSFT"]})

        await run_until(ingester, lambda: any(s == ("AAPL", "MSFT") for s in ingester.clients[0].subscribed.values())
                        and ingester.stats.messages_out["bar"] > 40, during=change)
        await server.stop()

    try:
        asyncio.run(scenario())
    finally:
        documents.close()
    assert {m.bar.symbol for m in drain(bus, "market-data")} == {"AAPL", "MSFT"}


def test_health_endpoints_report_readiness_and_prometheus_metrics(bus: EmbeddedMessageBus) -> None:
    async def get(port: int, path: str) -> tuple[str, str]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        response = (await reader.read()).decode()
        writer.close()
        head, _, body = response.partition("\r\n\r\n")
        return head.split("\r\n")[0], body

    async def scenario() -> dict[str, tuple[str, str]]:
        server = await ReplayServer(SyntheticTimeline(DAY, end=date(2024, 1, 3)), speed=0).start()
        ingester = make_ingester(bus, stock_stream(server.url + "/v2/iex"), symbols=SymbolSource(None, stocks=("V",)))
        seen: dict[str, tuple[str, str]] = {}

        async def probe() -> None:
            while not ingester.health.port:
                await asyncio.sleep(0.01)
            seen["before"] = await get(ingester.health.port, "/readyz")
            while ingester.stats.messages_out["bar"] < 390:
                await asyncio.sleep(0.02)
            for path in ("/healthz", "/readyz", "/metrics", "/nope"):
                seen[path] = await get(ingester.health.port, path)

        await run_until(ingester, lambda: "/nope" in seen, during=probe)
        await server.stop()
        return seen

    seen = asyncio.run(scenario())
    assert seen["/healthz"][0].endswith("200 OK") and seen["/readyz"][0].endswith("200 OK")
    assert seen["/nope"][0].endswith("404 Not Found")
    metrics = seen["/metrics"][1]
    for line in ('ingester_messages_in_total{type="bar"} 390', 'ingester_messages_out_total{type="bar"} 390',
                 "ingester_publish_latency_seconds_count 390", 'ingester_last_message_age_seconds{stream="stocks"}'):
        assert line in metrics


def test_published_bodies_carry_schema_version_and_filterable_attributes(bus: EmbeddedMessageBus) -> None:
    bus.create_subscription("aapl-only", "market-data", filter='attributes.symbol = "AAPL" AND attributes.type = "bar"')

    async def scenario() -> None:
        server = await ReplayServer(SyntheticTimeline(DAY, end=date(2024, 1, 3)), speed=0).start()
        ingester = make_ingester(bus, stock_stream(server.url + "/v2/iex"),
                                 symbols=SymbolSource(None, stocks=("AAPL", "MSFT")))
        await run_until(ingester, lambda: ingester.stats.messages_out["bar"] >= 780)
        await server.stop()

    asyncio.run(scenario())
    received = bus.pull("aapl-only", max_messages=1000)
    assert len(received) == 390
    body = json.loads(received[0].data)
    assert body["schema_version"] == 1 and body["source"] == "test-iex"
    assert received[0].attributes == {"symbol": "AAPL", "type": "bar", "source": "test-iex"}
    assert datetime.fromisoformat(body["timestamp"]) == datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
