"""Ingest rules: normalisation, de-duplication, batching, retries that never drop, message schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.adapters.local.messages import EmbeddedMessageBus
from shared.errors import InvalidInputError, TransientError
from shared.market import bar_hash
from shared.market import messages as mm
from shared.services.ingest import Deduplicator, IngestPipeline, PipelineConfig, normalise
from shared.venues.alpaca.events import BarEvent, NewsEvent, TradeEvent

T = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)


def bar(i: int, symbol: str = "AAPL") -> BarEvent:
    return BarEvent("b", symbol, T + timedelta(minutes=i), 100.0 + i, 101.0 + i, 99.0, 100.5, 1000.0, 12, 100.1)


@pytest.fixture
def bus(tmp_path: Path):
    bus = EmbeddedMessageBus(tmp_path / "m.sqlite3")
    yield bus
    bus.close()


def test_a_normalised_bar_hashes_exactly_like_its_warehouse_row() -> None:
    message = normalise(bar(0), "alpaca-iex")
    assert isinstance(message, mm.BarMessage)
    assert message.data_hash == bar_hash(message.bar) == message.row()["data_hash"]
    assert message.bar.timeframe == "1Min" and message.bar.source == "alpaca-iex"


def test_encoded_messages_round_trip_with_schema_version_and_attributes() -> None:
    for event in (bar(1), TradeEvent("AAPL", T, 1.5, 10.0, 3, "V"),
                  NewsEvent("9", "headline", T, T, symbols=("AAPL", "MSFT"), source="benzinga")):
        message = normalise(event, "alpaca-iex")
        out = mm.encode(message)
        assert out.attributes["type"] == message.type and out.attributes["source"] == message.source
        assert mm.decode(out.data) == message
    news = mm.encode(normalise(NewsEvent("9", "h", T, None, symbols=("AAPL", "MSFT")), "alpaca-news"))
    assert news.attributes["symbol"] == "AAPL" and news.attributes["symbols"] == "AAPL,MSFT"


@pytest.mark.parametrize("data", [b"nope", b"[]", b'{"schema_version": 2, "type": "bar"}',
                                  b'{"schema_version": 1, "type": "bar"}', b'{"schema_version": 1, "type": "x"}'])
def test_decoding_a_malformed_or_foreign_message_is_an_invalid_input_error(data: bytes) -> None:
    with pytest.raises(InvalidInputError):
        mm.decode(data)


def test_deduplicator_forgets_the_oldest_hash_beyond_its_capacity() -> None:
    dedup = Deduplicator(capacity=2)
    assert [dedup.first_time(h) for h in ("a", "b", "a", "c", "a")] == [True, True, False, True, True]


def test_repeated_bars_are_published_once_and_counted_as_duplicates(bus: EmbeddedMessageBus) -> None:
    bus.create_topic("market-data")
    bus.create_subscription("all", "market-data")
    pipeline = IngestPipeline(bus, None)
    assert pipeline.accept("stocks", "alpaca-iex", [bar(0), bar(1)]) == 2
    assert pipeline.accept("stocks", "alpaca-iex", [bar(1), bar(2)]) == 1
    assert pipeline.publish_pending() == 3
    assert len(bus.pull("all", max_messages=10)) == 3
    assert pipeline.stats.duplicates == 1 and pipeline.stats.messages_in["bar"] == 4


def test_a_failed_publish_keeps_the_batch_and_the_next_flush_delivers_it_in_order(bus: EmbeddedMessageBus) -> None:
    pipeline = IngestPipeline(bus, None, config=PipelineConfig(publish_batch=2))
    pipeline.accept("stocks", "alpaca-iex", [bar(i) for i in range(5)])
    with pytest.raises(TransientError):
        pipeline.publish_pending()  # the topic does not exist yet: the real bus refuses
    assert pipeline.backlog == 5 and pipeline.stats.publish_failures == 1
    bus.create_topic("market-data")
    bus.create_subscription("all", "market-data")
    assert pipeline.publish_pending() == 5 and pipeline.backlog == 0
    got = [mm.decode(m.data).bar.timestamp for m in bus.pull("all", max_messages=10)]
    assert got == [T + timedelta(minutes=i) for i in range(5)]


def test_batches_are_due_when_full_or_when_the_oldest_message_waited_long_enough(bus: EmbeddedMessageBus) -> None:
    now = [0.0]
    pipeline = IngestPipeline(bus, None, config=PipelineConfig(publish_batch=3, publish_max_delay_s=0.5),
                              clock=lambda: now[0])
    pipeline.accept("stocks", "s", [bar(0)])
    assert not pipeline.publish_due()
    now[0] = 0.6
    assert pipeline.publish_due()
    pipeline.accept("stocks", "s", [bar(1), bar(2)])
    now[0] = 0.0
    assert pipeline.publish_due()  # full batch


def test_rows_queued_for_the_archive_are_bars_and_news_with_their_hashes(bus: EmbeddedMessageBus) -> None:
    class ListWarehouse:  # the warehouse port's insert contract, recorded in memory
        def __init__(self) -> None:
            self.rows: dict[str, list[dict]] = {}

        def insert_rows(self, table: str, rows: list[dict]) -> None:
            self.rows.setdefault(table, []).extend(rows)

    warehouse = ListWarehouse()
    pipeline = IngestPipeline(bus, warehouse)  # type: ignore[arg-type]
    pipeline.accept("stocks", "alpaca-iex", [bar(0), NewsEvent("1", "h", T, None, symbols=("AAPL",))])
    assert pipeline.archive_pending() == 2
    [row] = warehouse.rows["market_data.bars"]
    assert row["data_hash"] == normalise(bar(0), "x").data_hash and row["ingested_at"] is not None
    assert warehouse.rows["market_data.news"][0]["symbols"] == ["AAPL"]


def test_metrics_render_as_prometheus_text_with_a_latency_histogram(bus: EmbeddedMessageBus) -> None:
    bus.create_topic("market-data")
    pipeline = IngestPipeline(bus, None)
    pipeline.accept("stocks", "s", [bar(0), bar(1)])
    pipeline.publish_pending()
    text = pipeline.stats.render()
    assert 'ingester_messages_out_total{type="bar"} 2' in text
    assert 'ingester_publish_latency_seconds_bucket{le="+Inf"} 2' in text
    assert "# TYPE ingester_publish_latency_seconds histogram" in text
