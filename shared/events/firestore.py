"""Firestore document CloudEvents: `google.cloud.firestore.document.v1.*` with protobuf data.

The data is a `google.events.cloud.firestore.DocumentEventData` (application/protobuf), as
Eventarc delivers it; decoding returns a plain `DocumentChange` with python values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cloudevents.http import CloudEvent
from google.events.cloud.firestore import DocumentEventData, Value
from google.protobuf import struct_pb2
from google.protobuf.message import DecodeError

from shared.errors import InvalidInputError
from shared.ports.documents import ChangeKind, DocumentChange

TYPE_PREFIX = "google.cloud.firestore.document.v1."
EVENTS = ("created", "updated", "deleted", "written")
DATA_SCHEMA = (
    "https://github.com/googleapis/google-cloudevents/blob/main/"
    "proto/google/events/cloud/firestore/v1/data.proto"
)
_EventPb = DocumentEventData.pb()
_ValuePb = Value.pb()
INT64_RANGE = (-(2**63), 2**63 - 1)


def encode_document_event(
    change: DocumentChange,
    *,
    project: str,
    database: str = "(default)",
    location: str = "us-central1",
    event: str | None = None,
) -> CloudEvent:
    """Wrap a change in the CloudEvent a Firestore trigger for `event` (default: its kind) gets."""
    event = event or change.kind
    if event not in EVENTS:
        raise InvalidInputError(f"Firestore event must be one of {EVENTS}, got {event!r}")
    document = f"{change.collection}/{change.doc_id}"
    name = f"projects/{project}/databases/{database}/documents/{document}"
    when = datetime.fromtimestamp(change.timestamp, UTC)
    data = _EventPb()
    if change.after is not None:
        _fill_document(data.value, name, change.after, when)
    if change.before is not None:
        _fill_document(data.old_value, name, change.before, None)
    before, after = change.before, change.after
    if change.kind == "updated" and before is not None and after is not None:
        # Like Firestore: the mask names the top-level fields that changed (added, removed, set).
        changed = (
            k for k in {*before, *after} if before.get(k, _MISSING) != after.get(k, _MISSING)
        )
        data.update_mask.field_paths.extend(sorted(changed))
    attributes = {
        "specversion": "1.0",
        "id": change.change_id,
        "type": TYPE_PREFIX + event,
        "source": f"//firestore.googleapis.com/projects/{project}/databases/{database}",
        "subject": f"documents/{document}",
        "time": when.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/protobuf",
        "dataschema": DATA_SCHEMA,
        "project": project,
        "database": database,
        "namespace": "(default)",
        "document": document,
        "location": location,
    }
    return CloudEvent(attributes, data.SerializeToString())


def decode_document_event(event: CloudEvent) -> DocumentChange:
    """Read a Firestore CloudEvent back into a DocumentChange; InvalidInputError otherwise."""
    kind_text = str(event["type"]).removeprefix(TYPE_PREFIX)
    if not str(event["type"]).startswith(TYPE_PREFIX) or kind_text not in EVENTS:
        raise InvalidInputError(f"not a Firestore document event: {event['type']!r}")
    raw = event.data
    if not isinstance(raw, (bytes, bytearray)):
        raise InvalidInputError("Firestore event data must be protobuf bytes")
    try:
        data = _EventPb.FromString(bytes(raw))
    except DecodeError as exc:
        raise InvalidInputError(f"Firestore event data is not a DocumentEventData: {exc}") from exc
    before = _document_fields(data.old_value) if data.HasField("old_value") else None
    after = _document_fields(data.value) if data.HasField("value") else None
    kind: ChangeKind
    if kind_text != "written":
        kind = kind_text  # type: ignore[assignment]
    else:
        kind = "created" if before is None else "deleted" if after is None else "updated"
    path = event.get("document") or str(event.get("subject") or "").removeprefix("documents/")
    collection, _, doc_id = path.rpartition("/")
    if not collection or not doc_id:
        raise InvalidInputError(f"Firestore event names no document: {path!r}")
    return DocumentChange(
        kind=kind,
        collection=collection,
        doc_id=doc_id,
        before=before,
        after=after,
        change_id=event["id"],
        timestamp=_parse_time(event.get("time")),
    )


def to_value(value: Any) -> Any:
    """Convert a python value to a Firestore `Value` protobuf message."""
    out = _ValuePb()
    _set_value(out, value)
    return out


def from_value(value: Any) -> Any:
    """Convert a Firestore `Value` protobuf message to a python value."""
    kind = value.WhichOneof("value_type")
    if kind is None or kind == "null_value":
        return None
    if kind == "array_value":
        return [from_value(v) for v in value.array_value.values]
    if kind == "map_value":
        return {k: from_value(v) for k, v in value.map_value.fields.items()}
    if kind == "timestamp_value":
        return value.timestamp_value.ToDatetime(tzinfo=UTC)
    if kind == "geo_point_value":
        point = value.geo_point_value
        return {"latitude": point.latitude, "longitude": point.longitude}
    return getattr(value, kind)  # bool, int, float, str, bytes, reference (str)


_MISSING = object()


def _set_value(out: Any, value: Any) -> None:
    if value is None:
        out.null_value = struct_pb2.NULL_VALUE
    elif isinstance(value, bool):  # before int: bool is an int
        out.boolean_value = value
    elif isinstance(value, int):
        if not INT64_RANGE[0] <= value <= INT64_RANGE[1]:
            raise InvalidInputError(f"integer {value} does not fit Firestore's int64")
        out.integer_value = value
    elif isinstance(value, float):
        out.double_value = value
    elif isinstance(value, str):
        out.string_value = value
    elif isinstance(value, (bytes, bytearray)):
        out.bytes_value = bytes(value)
    elif isinstance(value, datetime):
        out.timestamp_value.FromDatetime(value if value.tzinfo else value.replace(tzinfo=UTC))
    elif isinstance(value, (list, tuple)):
        out.array_value.SetInParent()  # an empty list is still an array, not null
        for item in value:
            _set_value(out.array_value.values.add(), item)
    elif isinstance(value, Mapping):
        out.map_value.SetInParent()
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInputError(f"Firestore map keys must be strings, got {key!r}")
            _set_value(out.map_value.fields[key], item)
    else:
        raise InvalidInputError(f"cannot store {type(value).__name__} in a Firestore document")


def _fill_document(doc: Any, name: str, fields: Mapping[str, Any], when: datetime | None) -> None:
    doc.name = name
    for key, item in fields.items():
        _set_value(doc.fields[key], item)
    if when is not None:
        doc.update_time.FromDatetime(when)


def _document_fields(doc: Any) -> dict[str, Any]:
    return {k: from_value(v) for k, v in doc.fields.items()}


def _parse_time(text: Any) -> float:
    if not text:
        return 0.0
    return datetime.fromisoformat(str(text)).timestamp()  # 3.11 reads a trailing "Z"
