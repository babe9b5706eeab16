"""Alpaca wire codec: msgpack and JSON frames, timestamps, typed events, malformed input."""

from __future__ import annotations

from datetime import UTC, datetime

import msgpack
import pytest

from shared.errors import InvalidInputError
from shared.venues.alpaca.events import (
    BarEvent,
    ErrorEvent,
    NewsEvent,
    QuoteEvent,
    SubscriptionEvent,
    TradeEvent,
    parse_message,
)
from shared.venues.alpaca.protocol import (
    MalformedFrameError,
    decode_frame,
    encode_frame,
    stock_path,
)

T = datetime(2024, 1, 2, 14, 30, 0, 123456, tzinfo=UTC)
BAR = {"T": "b", "S": "AAPL", "o": 1.0, "h": 2.0, "l": 0.5, "c": 1.5, "v": 100, "t": T, "n": 7, "vw": 1.2}


def test_msgpack_frames_carry_timestamps_as_the_msgpack_timestamp_extension() -> None:
    frame = encode_frame([BAR])
    assert isinstance(msgpack.unpackb(frame)[0]["t"], msgpack.Timestamp)
    assert decode_frame(frame) == [BAR]


def test_json_frames_decode_to_the_same_messages_as_msgpack() -> None:
    assert decode_frame(encode_frame([BAR], binary=False)) == decode_frame(encode_frame([BAR]))


def test_json_timestamps_with_nanoseconds_are_truncated_to_microseconds() -> None:
    [message] = decode_frame('[{"T":"t","S":"X","t":"2024-01-02T14:30:00.123456789Z"}]')
    assert message["t"] == T


@pytest.mark.parametrize("frame", [b"\xc1garbage", "{not json", b"\x01", '"text"', "[1, 2]"])
def test_undecodable_or_misshapen_frames_raise_malformed_frame_error(frame: bytes | str) -> None:
    with pytest.raises(MalformedFrameError):
        decode_frame(frame)


def test_every_data_type_parses_into_its_typed_event() -> None:
    assert parse_message(BAR) == BarEvent("b", "AAPL", T, 1.0, 2.0, 0.5, 1.5, 100.0, 7, 1.2)
    trade = parse_message({"T": "t", "S": "AAPL", "t": T, "p": 1.5, "s": 10, "i": 3, "x": "V", "c": ["@"]})
    assert isinstance(trade, TradeEvent) and trade.conditions == ("@",)
    quote = parse_message({"T": "q", "S": "AAPL", "t": T, "bp": 1, "bs": 2, "ap": 3, "as": 4})
    assert isinstance(quote, QuoteEvent) and quote.ask_size == 4.0
    news = parse_message({"T": "n", "id": 5, "headline": "h", "created_at": T, "updated_at": T, "symbols": ["A"]})
    assert isinstance(news, NewsEvent) and news.id == "5" and news.symbols == ("A",)
    assert parse_message({"T": "error", "code": 406, "msg": "connection limit exceeded"}) == ErrorEvent(
        406, "connection limit exceeded")
    assert parse_message({"T": "subscription", "bars": ["A"], "trades": []}) == SubscriptionEvent(
        {"bars": ("A",), "trades": ()})
    assert parse_message({"T": "c", "S": "A"}) is None  # corrections are not used


@pytest.mark.parametrize("bad", [
    {"T": "b", "S": "AAPL", "o": "x", "h": 1, "l": 1, "c": 1, "v": 1, "t": T},
    {"T": "b", "S": "AAPL", "o": 1, "h": 1, "l": 1, "c": 1, "v": 1},
    {"T": "b", "S": "", "o": 1, "h": 1, "l": 1, "c": 1, "v": 1, "t": T},
    {"T": "b", "S": "AAPL", "o": 1, "h": 1, "l": 1, "c": 1, "v": 1, "t": "yesterday"},
])
def test_a_data_message_with_missing_or_mistyped_fields_is_malformed(bad: dict) -> None:
    with pytest.raises(MalformedFrameError):
        parse_message(bad)


def test_stock_feeds_map_to_their_paths_and_unknown_feeds_are_refused() -> None:
    assert stock_path("sip") == "/v2/sip"
    with pytest.raises(InvalidInputError, match="stock feed"):
        stock_path("nasdaq")
