"""The CloudEvent edge (functions.edge.events): decode, run the handler, drop permanent errors
with a log line, re-raise the rest so the platform delivers the event again.

Events are built as Pub/Sub and Firestore deliver them (shared.events); one test posts them to
functions-framework's own app, as a deployed function receives them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent
from functions_framework import create_app

from shared.events import encode_document_event, encode_pubsub_event
from shared.ports.documents import DocumentChange
from shared.ports.messages import ReceivedMessage
from tests.functions import sample_events
from tests.functions.sample_events import (
    RAISES,
    RECEIVED,
    SampleCommand,
    sample_on_command,
    sample_on_sample_changed,
)

PERMANENT = ["invalid", "rules", "missing", "illegal"]
RETRIED = ["conflict", "transient", "backend", "boom"]


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    RECEIVED.clear()
    yield
    RECEIVED.clear()


def _message_event(data: bytes, message_id: str = "m-1") -> CloudEvent:
    received = ReceivedMessage(message_id=message_id, data=data, attributes={}, publish_time=1.7e9,
                               ack_id="a", delivery_attempt=1)
    return encode_pubsub_event(received, project="p", topic=SampleCommand.TOPIC, subscription="s")


def _document_event(collection: str, after: dict[str, object] | None = None) -> CloudEvent:
    change = DocumentChange(kind="created", collection=collection, doc_id="d1", before=None,
                            after=after or {"name": "one"}, change_id="c-1", timestamp=1.7e9)
    return encode_document_event(change, project="p")


def test_a_good_message_reaches_the_handler_decoded() -> None:
    sample_on_command(_message_event(SampleCommand(outcome="ok").encode()))
    assert RECEIVED == [SampleCommand(outcome="ok")]


def test_a_good_document_change_reaches_the_handler_decoded() -> None:
    sample_on_sample_changed(_document_event("samples", {"name": "one", "size": 3}))
    [change] = RECEIVED
    assert isinstance(change, DocumentChange)
    assert (change.collection, change.doc_id, change.after) == ("samples", "d1", {"name": "one", "size": 3})


@pytest.mark.parametrize("data", [b"not json", b"[]", b'{"schema_version": 1, "unknown": 2}'])
def test_a_message_that_does_not_decode_is_dropped_with_a_log_line(
    caplog: pytest.LogCaptureFixture, data: bytes
) -> None:
    with caplog.at_level(logging.ERROR, logger="functions.edge.events"):
        sample_on_command(_message_event(data, message_id="m-bad"))  # returns: acknowledged
    assert RECEIVED == []
    [record] = caplog.records
    assert "sample_on_command" in record.getMessage()
    assert "dropping event m-bad" in record.getMessage()
    assert "SampleCommand" in record.getMessage()  # the decoder's reason


def test_an_event_of_the_wrong_kind_is_dropped_not_retried(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="functions.edge.events"):
        sample_on_command(_document_event("samples"))  # a Firestore event on a Pub/Sub function
        sample_on_sample_changed(_document_event("agents"))  # another collection's document
    assert RECEIVED == []
    assert len(caplog.records) == 2
    assert "not a samples document: agents/d1" in caplog.records[1].getMessage()


def test_an_event_whose_envelope_is_malformed_is_dropped_not_retried(caplog: pytest.LogCaptureFixture) -> None:
    pubsub = _message_event(b"{}")
    garbled_pubsub = CloudEvent(dict(pubsub.get_attributes()), b"{not json")
    firestore = _document_event("samples")
    garbled_firestore = CloudEvent(dict(firestore.get_attributes()), b"\xff\xff\xff")
    with caplog.at_level(logging.ERROR, logger="functions.edge.events"):
        sample_on_command(garbled_pubsub)
        sample_on_sample_changed(garbled_firestore)
    assert RECEIVED == []
    assert ["not JSON" in r.getMessage() for r in caplog.records] == [True, False]
    assert "not a DocumentEventData" in caplog.records[1].getMessage()


@pytest.mark.parametrize("outcome", PERMANENT)
def test_a_permanent_error_from_the_handler_is_dropped_with_a_log_line(
    caplog: pytest.LogCaptureFixture, outcome: str
) -> None:
    with caplog.at_level(logging.ERROR, logger="functions.edge.events"):
        sample_on_command(_message_event(SampleCommand(outcome=outcome).encode()))
    assert len(RECEIVED) == 1
    [record] = caplog.records
    assert RAISES[outcome].args[0] in record.getMessage()


@pytest.mark.parametrize("outcome", RETRIED)
def test_a_transient_or_unexpected_error_is_re_raised_so_the_event_comes_back(outcome: str) -> None:
    with pytest.raises(type(RAISES[outcome])) as raised:
        sample_on_command(_message_event(SampleCommand(outcome=outcome).encode()))
    assert raised.value is RAISES[outcome]


def test_under_functions_framework_a_dropped_event_is_acknowledged_and_a_transient_one_is_not() -> None:
    client = create_app("sample_on_command", sample_events.__file__, "cloudevent").test_client()

    def post(data: bytes) -> int:
        headers, body = to_binary(_message_event(data))
        return client.post("/", headers=headers, data=body).status_code

    assert post(b"not json") == 200  # acknowledged: never delivered again
    assert post(SampleCommand(outcome="missing").encode()) == 200
    assert post(SampleCommand(outcome="transient").encode()) == 500  # the platform retries
    assert post(SampleCommand(outcome="ok").encode()) == 200
