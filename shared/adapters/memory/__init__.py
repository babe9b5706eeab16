"""In-memory fakes of the ports, and the parts of an in-memory `Application` (fast service tests).

Each fake keeps its port's semantics (the contract suites in tests/contract run over them):
documents with optimistic transactions and a change feed, a message bus with leases, filters and
dead letters, blobs, identity with an in-memory signing key. The cache and rate limiter are the
in-process ones; the warehouse is the embedded engine in a scratch directory (it is SQL).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from shared.adapters.memory.blobs import MemoryBlobStore
from shared.adapters.memory.documents import MemoryDocumentStore
from shared.adapters.memory.identity import MemoryIdentityVerifier
from shared.adapters.memory.messages import MemoryMessageBus
from shared.errors import SettingsError

if TYPE_CHECKING:
    from shared.app.application import Application
    from shared.ports import Cache, RateLimiter, Warehouse

__all__ = ["MemoryBlobStore", "MemoryDocumentStore", "MemoryIdentityVerifier", "MemoryMessageBus", "MemoryParts"]


class MemoryParts:
    """Builders of an in-memory application's parts; processes it would supervise must be passed in."""

    def documents(self, app: Application) -> MemoryDocumentStore:
        return MemoryDocumentStore()

    def messages(self, app: Application) -> MemoryMessageBus:
        return MemoryMessageBus()

    def warehouse(self, app: Application) -> Warehouse:
        from shared.adapters.memory.warehouse import ScratchWarehouse

        return ScratchWarehouse()

    def blobs(self, app: Application) -> MemoryBlobStore:
        return MemoryBlobStore()

    def cache(self, app: Application) -> Cache:
        from shared.adapters.local.memory_cache import InProcessCache

        return InProcessCache()

    def rate_limiter(self, app: Application) -> RateLimiter:
        from shared.adapters.local.memory_cache import InProcessRateLimiter

        return InProcessRateLimiter()

    def identity(self, app: Application) -> MemoryIdentityVerifier:
        return MemoryIdentityVerifier()

    def orchestrator(self, app: Application) -> NoReturn:
        _not_in_memory("orchestrator")

    def job_launcher(self, app: Application) -> NoReturn:
        _not_in_memory("job_launcher")

    def reconcile_launcher(self, app: Application) -> NoReturn:
        _not_in_memory("reconcile_launcher")


def _not_in_memory(name: str, *_: Any) -> NoReturn:
    # Runtimes and jobs are processes: a fast test passes the fake it wants, explicitly.
    raise SettingsError(f"an in-memory application starts no processes: pass {name}= to Application.in_memory()")
