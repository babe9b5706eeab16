"""CloudEvents exactly as Google Cloud delivers them to functions: encode (the local host) and
decode (every event-triggered function).

- `shared.events.pubsub`: `google.cloud.pubsub.topic.v1.messagePublished`
- `shared.events.firestore`: `google.cloud.firestore.document.v1.{created,updated,deleted,written}`
"""

from shared.events.firestore import decode_document_event, encode_document_event
from shared.events.pubsub import PubSubEvent, decode_pubsub_event, encode_pubsub_event

__all__ = [
    "PubSubEvent",
    "decode_document_event",
    "decode_pubsub_event",
    "encode_document_event",
    "encode_pubsub_event",
]
