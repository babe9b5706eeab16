"""`Application`: one per process, built from settings, every part lazy, overridable, closed once.

The ports (documents, messages, warehouse, blobs, cache, rate_limiter, identity) and the
long-lived components (orchestrator, job_launcher, reconcile_launcher, broker_accounts) are
built on first use, at most once even when threads race, by the backend's `Parts`
(`shared/app/parts.py`, the one place that chooses local or gcp; broker accounts come from the
venue `shared/venues` chooses, as the runtime's broker does). A part passed to the
constructor is used as given and stays its caller's to close; `close()` closes, in reverse
order of creation, exactly what the application built itself. A component resolves the ports it
needs while it is built, so it is always closed before them (runtimes flush into open stores).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from shared.app.parts import Parts, parts_for
from shared.settings import Settings

if TYPE_CHECKING:
    from shared.ports import BlobStore, Cache, DocumentStore, MessageBus, RateLimiter, Warehouse
    from shared.ports.broker import BrokerAccounts
    from shared.ports.deployments import Deployments
    from shared.ports.identity import IdentityVerifier
    from shared.ports.jobs import JobLauncher
    from shared.ports.orchestrator import Orchestrator, RuntimeStatus
    from shared.services.reconciliations import ReconciliationLauncher

log = logging.getLogger(__name__)
T = TypeVar("T")
PORTS = ("documents", "messages", "warehouse", "blobs", "cache", "rate_limiter", "identity")
COMPONENTS = ("orchestrator", "job_launcher", "reconcile_launcher", "broker_accounts")


class _Part(Generic[T]):
    """A lazily built part of the application, read as a plain attribute."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, app: Application | None, owner: type | None = None) -> T:
        if app is None:
            raise AttributeError(self.name)
        return app.part(self.name)


class Application:
    """The settings, ports and long-lived components of one process."""

    documents: _Part[DocumentStore] = _Part()
    messages: _Part[MessageBus] = _Part()
    warehouse: _Part[Warehouse] = _Part()
    blobs: _Part[BlobStore] = _Part()
    cache: _Part[Cache] = _Part()
    rate_limiter: _Part[RateLimiter] = _Part()
    identity: _Part[IdentityVerifier] = _Part()
    orchestrator: _Part[Orchestrator] = _Part()
    job_launcher: _Part[JobLauncher] = _Part()
    reconcile_launcher: _Part[ReconciliationLauncher] = _Part()
    broker_accounts: _Part[BrokerAccounts] = _Part()

    def __init__(
        self, settings: Settings | None = None, *, parts: Parts | None = None,
        documents: DocumentStore | None = None, messages: MessageBus | None = None,
        warehouse: Warehouse | None = None, blobs: BlobStore | None = None, cache: Cache | None = None,
        rate_limiter: RateLimiter | None = None, identity: IdentityVerifier | None = None,
        orchestrator: Orchestrator | None = None, job_launcher: JobLauncher | None = None,
        reconcile_launcher: ReconciliationLauncher | None = None, broker_accounts: BrokerAccounts | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self._parts = parts or parts_for(self.settings)
        given = {"documents": documents, "messages": messages, "warehouse": warehouse, "blobs": blobs,
                 "cache": cache, "rate_limiter": rate_limiter, "identity": identity,
                 "orchestrator": orchestrator, "job_launcher": job_launcher,
                 "reconcile_launcher": reconcile_launcher, "broker_accounts": broker_accounts}
        self._ready: dict[str, Any] = {name: part for name, part in given.items() if part is not None}
        self._created: list[tuple[str, Any]] = []  # what close() closes, in creation order
        self._lock = threading.RLock()  # re-entrant: a component's builder reads the ports it needs
        self._launch_gate: tuple[threading.Event, str] | None = None
        self._closed = False

    @classmethod
    def in_memory(cls, settings: Settings | None = None, **overrides: Any) -> Self:
        """An application on in-memory fakes of the ports (fast service tests): no data directory.

        The warehouse, which is SQL, is the embedded engine in a scratch directory removed on close.
        """
        from shared.adapters.memory import MemoryParts

        return cls(settings or Settings(backend="local"), parts=MemoryParts(), **overrides)

    def part(self, name: str) -> Any:
        """The part called `name`, built on first use (prefer the attribute: `app.documents`)."""
        part = self._ready.get(name)
        if part is not None:
            return part
        with self._lock:
            if name in self._ready:
                return self._ready[name]
            if self._closed:
                raise RuntimeError(f"the application is closed: no {name} any more")
            part = self._build(name)
            self._ready[name] = part
            self._created.append((name, part))
            log.debug("built %s (%s)", name, type(part).__name__)
            return part

    def built(self, name: str) -> Any | None:
        """The part called `name` if it exists already (given or built); never builds it."""
        return self._ready.get(name)

    def hold_launches_until(self, ready: threading.Event, reason: str) -> None:
        """Make backtest launches wait for `ready` (e.g. the market data is written): call before first use."""
        with self._lock:
            if "job_launcher" in self._ready:
                raise RuntimeError("the job launcher is already in use: hold launches before the first one")
            self._launch_gate = (ready, reason)

    def close(self) -> None:
        """Close what this application built, newest first; parts passed in stay open."""
        with self._lock:
            created, self._created, self._closed = self._created, [], True  # nothing new from here on
        for name, part in reversed(created):
            # The older parts stay readable meanwhile: a launcher being closed marks its killed
            # jobs failed in the documents, which are closed after it.
            try:
                part.close()
            except Exception:  # one part failing to close must not leave the rest open
                log.exception("could not close %s", name)
            with self._lock:
                self._ready.pop(name, None)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # What the parts' builders call back into.

    def runtime_failed(self, status: RuntimeStatus) -> None:
        """A runtime exhausted its automatic restarts: its session and agent are `failed`."""
        from shared.services import paper_runtime

        reason = f"runtime exited with {status.exit_code} after {status.restarts} restarts"
        if status.detail:  # the runtime's own last error: what the owner needs to act
            reason += f": {status.detail}"
        paper_runtime.mark_failed(self.documents, status.session_id, reason=reason)

    def runtime_restarted(self, status: RuntimeStatus) -> None:
        """A runtime was restarted automatically: the session counts it against the restart budget."""
        from shared.services import paper_runtime

        reason = f"exited with {status.exit_code}" + (f": {status.detail}" if status.detail else "")
        paper_runtime.record_runtime_restart(self.documents, status.session_id, status.restarts, reason=reason)

    def reconciliation_failed(self, reconciliation_id: str, reason: str) -> None:
        """A reconciliation job died before storing its outcome: the reconciliation is `failed`."""
        from shared.services.reconciliations import finish_reconciliation

        finish_reconciliation(self.documents, reconciliation_id, error=reason)

    def _build(self, name: str) -> Any:
        if name not in PORTS + COMPONENTS:
            raise AttributeError(f"an application has no part {name!r}")
        if name in COMPONENTS:
            self.documents  # noqa: B018 - built first, so closed after every component that writes it
        if name == "broker_accounts":  # the venue FARM_BROKER names, as the runtime's: shared/venues chooses
            from shared.venues import broker_accounts

            return broker_accounts(self.settings, self.documents)
        part = getattr(self._parts, name)(self)
        if name == "job_launcher" and self._launch_gate is not None:
            from shared.app.gated_launcher import GatedLauncher

            part = GatedLauncher(part, *self._launch_gate)
        return part


def deployments(*, endpoint: str | None = None) -> Deployments:
    """The view of deployed services: Cloud Run, where Gen2 functions run (any backend).

    `endpoint` overrides the Cloud Run Admin API host (a regional endpoint or a local fake).
    """
    from shared.adapters.gcp.cloud_run import CloudRunDeployments

    return CloudRunDeployments(endpoint=endpoint)
