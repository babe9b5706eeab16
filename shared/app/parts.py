"""What an `Application` is made of, per backend: the only place that chooses local or gcp.

A `Parts` builds each port and component for an application on first use. Adapter modules are
imported inside the builders, so choosing a backend creates no client and imports no cloud
library; the local backend never imports google-cloud at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from shared.settings import Settings

if TYPE_CHECKING:
    from shared.app.application import Application
    from shared.ports import BlobStore, Cache, DocumentStore, MessageBus, RateLimiter, Warehouse
    from shared.ports.identity import IdentityVerifier
    from shared.ports.jobs import JobLauncher
    from shared.ports.orchestrator import Orchestrator
    from shared.services.reconciliations import ReconciliationLauncher

RECONCILE_CONFIG = Path(__file__).resolve().parents[2] / "jobs" / "cloudbuild.reconcile.yaml"


class Parts(Protocol):
    """Builders of the backend-specific parts; each is called at most once per application."""

    def documents(self, app: Application) -> DocumentStore: ...
    def messages(self, app: Application) -> MessageBus: ...
    def warehouse(self, app: Application) -> Warehouse: ...
    def blobs(self, app: Application) -> BlobStore: ...
    def cache(self, app: Application) -> Cache: ...
    def rate_limiter(self, app: Application) -> RateLimiter: ...
    def identity(self, app: Application) -> IdentityVerifier: ...
    def orchestrator(self, app: Application) -> Orchestrator: ...
    def job_launcher(self, app: Application) -> JobLauncher: ...
    def reconcile_launcher(self, app: Application) -> ReconciliationLauncher: ...


def parts_for(settings: Settings) -> Parts:
    """The parts of `settings.backend`: the one place the backend is chosen."""
    return GcpParts() if settings.backend == "gcp" else LocalParts()


class _CacheParts:
    """Redis when a URL is set (Memorystore on gcp, a local server otherwise), else this process's memory."""

    def cache(self, app: Application) -> Cache:
        if app.settings.redis_url:
            from shared.adapters.redis_cache import RedisCache, connect

            return RedisCache(connect(app.settings.redis_url))
        from shared.adapters.local.memory_cache import InProcessCache

        return InProcessCache()

    def rate_limiter(self, app: Application) -> RateLimiter:
        if app.settings.redis_url:
            from shared.adapters.redis_cache import RedisRateLimiter, connect

            return RedisRateLimiter(connect(app.settings.redis_url))
        from shared.adapters.local.memory_cache import InProcessRateLimiter

        return InProcessRateLimiter()


class LocalParts(_CacheParts):
    """Embedded engines under the data directory; jobs and runtimes as supervised subprocesses."""

    def documents(self, app: Application) -> DocumentStore:
        from shared.adapters.local.documents import SqliteDocumentStore

        return SqliteDocumentStore(_data_dir(app.settings) / "documents.sqlite3")

    def messages(self, app: Application) -> MessageBus:
        from shared.adapters.local.messages import EmbeddedMessageBus

        return EmbeddedMessageBus(_data_dir(app.settings) / "messages.sqlite3")

    def warehouse(self, app: Application) -> Warehouse:
        from shared.adapters.local.warehouse import DuckDbWarehouse

        return DuckDbWarehouse(_data_dir(app.settings) / "warehouse.duckdb")

    def blobs(self, app: Application) -> BlobStore:
        from shared.adapters.local.blobs import DirectoryBlobStore

        return DirectoryBlobStore(_data_dir(app.settings) / "blobs")

    def identity(self, app: Application) -> IdentityVerifier:
        from shared.adapters.local.local_identity import LocalIdentityVerifier

        return LocalIdentityVerifier(app.settings.data_dir)

    def orchestrator(self, app: Application) -> Orchestrator:
        from shared.adapters.local.orchestrator import LocalOrchestrator

        # A runtime that exhausts its automatic restarts marks its session and agent `failed`.
        return LocalOrchestrator(app.settings.data_dir, on_failed=app.runtime_failed,
                                 on_restart=app.runtime_restarted)

    def job_launcher(self, app: Application) -> JobLauncher:
        from shared.adapters.local.job_launcher import JobLimits, LocalJobLauncher

        limits = JobLimits(budget_s=float(app.settings.backtest_budget_s))
        return LocalJobLauncher(app.messages, app.settings.data_dir, limits=limits)

    def reconcile_launcher(self, app: Application) -> ReconciliationLauncher:
        from shared.adapters.local.job_launcher import JobLimits
        from shared.adapters.local.reconcile_launcher import LocalReconciliationLauncher

        limits = JobLimits(budget_s=float(app.settings.backtest_budget_s))
        return LocalReconciliationLauncher(app.messages, Path(app.settings.data_dir),
                                           on_failed=app.reconciliation_failed, limits=limits)


class GcpParts(_CacheParts):
    """Google Cloud clients for the settings' project; jobs on Cloud Build, runtimes on GKE."""

    def documents(self, app: Application) -> DocumentStore:
        from shared.adapters.gcp.firestore import FirestoreDocumentStore

        return FirestoreDocumentStore(_project(app.settings))

    def messages(self, app: Application) -> MessageBus:
        from shared.adapters.gcp.pubsub import PubSubMessageBus

        return PubSubMessageBus(_project(app.settings))

    def warehouse(self, app: Application) -> Warehouse:
        from shared.adapters.gcp.bigquery import BigQueryWarehouse

        return BigQueryWarehouse(_project(app.settings), location=app.settings.gcp_region)

    def blobs(self, app: Application) -> BlobStore:
        from shared.adapters.gcp.storage import GcsBlobStore

        return GcsBlobStore(app.settings.blob_bucket, project=_project(app.settings))

    def identity(self, app: Application) -> IdentityVerifier:
        from shared.adapters.gcp.firebase_identity import FirebaseIdentityVerifier

        return FirebaseIdentityVerifier(app.settings.firebase_project or _project(app.settings))

    def orchestrator(self, app: Application) -> Orchestrator:
        from shared.adapters.gcp.gke_orchestrator import GkeOrchestrator

        return GkeOrchestrator(app.settings)

    def job_launcher(self, app: Application) -> JobLauncher:
        return _cloud_build(app.settings)

    def reconcile_launcher(self, app: Application) -> ReconciliationLauncher:
        return _cloud_build(app.settings, config_path=RECONCILE_CONFIG)


def _cloud_build(settings: Settings, **options: Any) -> Any:
    from shared.adapters.gcp.cloud_build import CloudBuildJobLauncher

    return CloudBuildJobLauncher(_project(settings), region=settings.gcp_region, bucket=settings.blob_bucket,
                                 **options)


def _data_dir(settings: Settings) -> Path:
    root = Path(settings.data_dir)
    root.mkdir(parents=True, exist_ok=True)
    return root


def _project(settings: Settings) -> str:
    project = settings.gcp_project
    assert project  # Settings guarantees it for the gcp backend
    return project
