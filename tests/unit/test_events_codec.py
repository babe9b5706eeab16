"""Round trips of the CloudEvents the platform sends and receives (Pub/Sub and Firestore)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent, from_http
from google.events.cloud.firestore import DocumentEventData

from shared.errors import InvalidInputError
from shared.events import (
    decode_document_event,
    decode_pubsub_event,
    encode_document_event,
    encode_pubsub_event,
)
from shared.events.firestore import from_value, to_value
from shared.ports.documents import DocumentChange
from shared.ports.messages import ReceivedMessage

MESSAGE = ReceivedMessage(
    message_id="1234",
    data=b'{"schema_version": 1, "run_id": "r1"}',
    attributes={"symbol": "AAPL", "type": "bar"},
    publish_time=1_700_000_000.123456,
    ack_id="ack-1",
    delivery_attempt=3,
)


def _pubsub_event() -> CloudEvent:
    return encode_pubsub_event(MESSAGE, project="demo", topic="market-data", subscription="fn-x")


def test_pubsub_event_has_the_attributes_gcp_sends() -> None:
    event = _pubsub_event()
    assert event["type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert event["source"] == "//pubsub.googleapis.com/projects/demo/topics/market-data"
    assert event["id"] == "1234"
    assert event["specversion"] == "1.0"
    assert event["time"] == "2023-11-14T22:13:20.123456Z"
    message = event.data["message"]
    assert base64.b64decode(message["data"]) == MESSAGE.data
    assert message["attributes"] == {"symbol": "AAPL", "type": "bar"}
    assert message["messageId"] == message["message_id"] == "1234"
    assert message["publishTime"] == "2023-11-14T22:13:20.123456Z"
    assert event.data["subscription"] == "projects/demo/subscriptions/fn-x"


def test_pubsub_event_round_trips_to_the_same_message() -> None:
    decoded = decode_pubsub_event(_pubsub_event())
    assert decoded.message_id == "1234"
    assert decoded.data == MESSAGE.data
    assert decoded.attributes == MESSAGE.attributes
    assert decoded.publish_time == datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)
    assert decoded.delivery_attempt == 3
    assert decoded.topic == "market-data"
    assert decoded.subscription == "fn-x"
    assert decoded.json() == {"schema_version": 1, "run_id": "r1"}


def test_pubsub_event_survives_the_http_wire_in_both_modes() -> None:
    for encode in (to_binary, to_structured):
        headers, body = encode(_pubsub_event())
        assert decode_pubsub_event(from_http(headers, body)).data == MESSAGE.data


def test_pubsub_decoder_accepts_nanosecond_publish_times_and_missing_fields() -> None:
    event = CloudEvent(
        {
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": "//pubsub.googleapis.com/projects/p/topics/t",
            "id": "9",
        },
        {"message": {"publishTime": "2024-05-01T10:00:00.123456789Z"}, "subscription": "s"},
    )
    decoded = decode_pubsub_event(event)
    assert decoded.data == b""
    assert decoded.attributes == {}
    assert decoded.message_id == "9"
    assert decoded.delivery_attempt == 1
    assert decoded.publish_time == datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)


def test_pubsub_decoder_rejects_other_event_types_and_bad_base64() -> None:
    with pytest.raises(InvalidInputError, match="messagePublished"):
        decode_pubsub_event(CloudEvent({"type": "x", "source": "s"}, {}))
    bad = CloudEvent(
        {"type": "google.cloud.pubsub.topic.v1.messagePublished", "source": "s"},
        {"message": {"data": "not base64!"}},
    )
    with pytest.raises(InvalidInputError, match="base64"):
        decode_pubsub_event(bad)


AFTER = {
    "name": "sma",
    "owner_uid": "alice",
    "version": 3,
    "score": 1.25,
    "active": True,
    "note": None,
    "tags": ["a", 1, None, {"deep": [False]}],
    "empty_list": [],
    "empty_map": {},
    "meta": {"created_at": datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC), "raw": b"\x00\x01"},
}


@pytest.mark.parametrize("kind", ["created", "updated", "deleted"])
def test_firestore_event_round_trips_each_change_kind(kind: str) -> None:
    before = None if kind == "created" else {"name": "old", "version": 2, "gone": "x"}
    after = None if kind == "deleted" else AFTER
    change = DocumentChange(kind, "agents", "a-1", before, after, "change-7", 1.7e9)  # type: ignore[arg-type]
    event = encode_document_event(change, project="demo")
    assert event["type"] == f"google.cloud.firestore.document.v1.{kind}"
    assert event["source"] == "//firestore.googleapis.com/projects/demo/databases/(default)"
    assert event["subject"] == "documents/agents/a-1"
    assert event["datacontenttype"] == "application/protobuf"
    assert decode_document_event(event) == change


def test_firestore_event_data_is_a_real_document_event_data_protobuf() -> None:
    before, after = {"v": 1, "k": "same"}, {"v": 2, "k": "same", "n": 0}
    change = DocumentChange("updated", "agents", "a-1", before, after, "c", 1.0)
    data = DocumentEventData.deserialize(encode_document_event(change, project="demo").data)
    assert data.value.name == "projects/demo/databases/(default)/documents/agents/a-1"
    assert data.value.fields["v"].integer_value == 2
    assert data.old_value.fields["v"].integer_value == 1
    assert list(data.update_mask.field_paths) == ["n", "v"]


def test_a_written_event_infers_the_change_kind_from_the_documents() -> None:
    for kind, before, after in (
        ("created", None, {"a": 1}),
        ("updated", {"a": 1}, {"a": 2}),
        ("deleted", {"a": 1}, None),
    ):
        change = DocumentChange(kind, "users/u1/sessions", "s1", before, after, "c", 2.0)  # type: ignore[arg-type]
        event = encode_document_event(change, project="p", event="written")
        assert event["type"] == "google.cloud.firestore.document.v1.written"
        assert decode_document_event(event) == change


def test_firestore_event_survives_the_http_wire_in_binary_mode() -> None:
    change = DocumentChange("created", "agents", "a-2", None, AFTER, "c", 3.0)
    headers, body = to_binary(encode_document_event(change, project="p"))
    assert headers["content-type"] == "application/protobuf"
    assert decode_document_event(from_http(headers, body)) == change


def test_values_convert_both_ways_with_ints_and_bools_kept_apart() -> None:
    values = (None, True, False, 0, -7, 2**63 - 1, 0.5, "", "ünï", [], {}, [1, [2, {"x": None}]])
    for value in values:
        assert from_value(to_value(value)) == value
        assert type(from_value(to_value(value))) is type(value)
    assert to_value(True).WhichOneof("value_type") == "boolean_value"
    assert to_value(1).WhichOneof("value_type") == "integer_value"


def test_values_that_firestore_cannot_hold_are_rejected_clearly() -> None:
    with pytest.raises(InvalidInputError, match="int64"):
        to_value(2**63)
    with pytest.raises(InvalidInputError, match="set"):
        to_value({1, 2})
    with pytest.raises(InvalidInputError, match="keys must be strings"):
        to_value({1: "a"})


def test_firestore_decoder_rejects_non_firestore_events() -> None:
    with pytest.raises(InvalidInputError, match="not a Firestore"):
        pubsub_type = "google.cloud.pubsub.topic.v1.messagePublished"
        decode_document_event(CloudEvent({"type": pubsub_type, "source": "s"}, b""))
