"""Ports: the small protocols every cloud service sits behind (SPEC §3).

Each port has a local adapter (embedded engine), a gcp adapter (real client) and an in-memory
fake (`shared/adapters/memory`); `shared.app.parts` picks one set for the process's
`Application`. Services take ports as arguments and never import an adapter.
"""

from shared.ports.blobs import BlobStore
from shared.ports.cache import Cache, RateDecision, RateLimiter
from shared.ports.documents import DocumentChange, DocumentStore, Filter, Transaction
from shared.ports.identity import IdentityVerifier, Principal
from shared.ports.messages import MessageBus, OutgoingMessage, ReceivedMessage
from shared.ports.warehouse import Warehouse

__all__ = [
    "BlobStore",
    "Cache",
    "DocumentChange",
    "DocumentStore",
    "Filter",
    "IdentityVerifier",
    "MessageBus",
    "OutgoingMessage",
    "Principal",
    "RateDecision",
    "RateLimiter",
    "ReceivedMessage",
    "Transaction",
    "Warehouse",
]
