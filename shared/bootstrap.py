"""Wire adapters into a `Platform`: the only place that chooses between local and gcp.

Adapter modules are imported inside the builders so that importing this module creates no
client and imports no cloud library; the local backend never imports google-cloud at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.ports import BlobStore, Cache, DocumentStore, MessageBus, RateLimiter, Warehouse
from shared.ports.broker import BrokerAccounts
from shared.ports.deployments import Deployments
from shared.ports.identity import IdentityVerifier
from shared.ports.jobs import JobLauncher
from shared.ports.orchestrator import Orchestrator, RuntimeStatus
from shared.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Platform:
    """The ports one process works with, built once at start-up."""

    settings: Settings
    documents: DocumentStore
    messages: MessageBus
    warehouse: Warehouse
    blobs: BlobStore
    cache: Cache
    rate_limiter: RateLimiter
    identity: IdentityVerifier


def bootstrap(settings: Settings | None = None) -> Platform:
    """Build the platform's ports for `settings` (default: read from the environment)."""
    settings = settings or Settings.from_env()
    if settings.backend == "gcp":
        documents, messages, warehouse, blobs = _gcp_stores(settings)
    else:
        documents, messages, warehouse, blobs = _local_stores(settings)
    cache, rate_limiter = _cache(settings)
    log.info("platform ready: backend=%s data_dir=%s", settings.backend, settings.data_dir)
    identity = _identity(settings)
    return Platform(settings, documents, messages, warehouse, blobs, cache, rate_limiter, identity)


def _local_stores(settings: Settings) -> tuple[DocumentStore, MessageBus, Warehouse, BlobStore]:
    from shared.adapters.local.blobs import DirectoryBlobStore
    from shared.adapters.local.documents import SqliteDocumentStore
    from shared.adapters.local.messages import EmbeddedMessageBus
    from shared.adapters.local.warehouse import DuckDbWarehouse

    root = settings.data_dir
    root.mkdir(parents=True, exist_ok=True)
    return (
        SqliteDocumentStore(root / "documents.sqlite3"),
        EmbeddedMessageBus(root / "messages.sqlite3"),
        DuckDbWarehouse(root / "warehouse.duckdb"),
        DirectoryBlobStore(root / "blobs"),
    )


def _gcp_stores(settings: Settings) -> tuple[DocumentStore, MessageBus, Warehouse, BlobStore]:
    from shared.adapters.gcp.bigquery import BigQueryWarehouse
    from shared.adapters.gcp.firestore import FirestoreDocumentStore
    from shared.adapters.gcp.pubsub import PubSubMessageBus
    from shared.adapters.gcp.storage import GcsBlobStore

    project = settings.gcp_project
    assert project  # Settings guarantees it for the gcp backend
    return (
        FirestoreDocumentStore(project),
        PubSubMessageBus(project),
        BigQueryWarehouse(project, location=settings.gcp_region),
        GcsBlobStore(settings.blob_bucket, project=project),
    )


def _cache(settings: Settings) -> tuple[Cache, RateLimiter]:
    if settings.redis_url:
        from shared.adapters.redis_cache import RedisCache, RedisRateLimiter, connect

        client = connect(settings.redis_url)
        return RedisCache(client), RedisRateLimiter(client)
    from shared.adapters.local.memory_cache import InProcessCache, InProcessRateLimiter

    return InProcessCache(), InProcessRateLimiter()


def _identity(settings: Settings) -> IdentityVerifier:
    if settings.backend == "gcp":
        from shared.adapters.gcp.firebase_identity import FirebaseIdentityVerifier

        project = settings.firebase_project or settings.gcp_project
        assert project  # Settings guarantees gcp_project for the gcp backend
        return FirebaseIdentityVerifier(project)
    from shared.adapters.local.local_identity import LocalIdentityVerifier

    return LocalIdentityVerifier(settings.data_dir)


def job_launcher(platform: Platform) -> JobLauncher:
    """Build the backtest job launcher for `platform`: Cloud Build on gcp, a subprocess locally."""
    settings = platform.settings
    if settings.backend == "gcp":
        from shared.adapters.gcp.cloud_build import CloudBuildJobLauncher

        assert settings.gcp_project  # Settings guarantees it for the gcp backend
        return CloudBuildJobLauncher(settings.gcp_project, region=settings.gcp_region, bucket=settings.blob_bucket)
    from shared.adapters.local.job_launcher import JobLimits, LocalJobLauncher

    limits = JobLimits(budget_s=float(settings.backtest_budget_s))
    return LocalJobLauncher(platform.messages, settings.data_dir, limits=limits)


def orchestrator(platform: Platform) -> Orchestrator:
    """Build the runtime orchestrator: GKE StatefulSets on gcp, supervised subprocesses locally.

    Long-lived (it supervises): build one per process and keep it. A runtime that exhausts its
    automatic restarts marks its session and agent `failed`.
    """
    from shared.services import paper_trading

    def failed(status: RuntimeStatus) -> None:
        reason = f"runtime exited with {status.exit_code} after {status.restarts} restarts"
        if status.detail:  # the runtime's own last error: what the owner needs to act
            reason += f": {status.detail}"
        paper_trading.mark_failed(platform.documents, status.session_id, reason=reason)

    def restarted(status: RuntimeStatus) -> None:
        reason = f"exited with {status.exit_code}" + (f": {status.detail}" if status.detail else "")
        paper_trading.mark_restarted(platform.documents, status.session_id, status.restarts, reason=reason)

    if platform.settings.backend == "gcp":
        from shared.adapters.gcp.gke_orchestrator import GkeOrchestrator

        return GkeOrchestrator(platform.settings)
    from shared.adapters.local.orchestrator import LocalOrchestrator

    return LocalOrchestrator(platform.settings.data_dir, on_failed=failed, on_restart=restarted)


def broker_accounts(platform: Platform) -> BrokerAccounts:
    """Build the paper-account operations: Alpaca's Broker API on gcp, simulated accounts locally."""
    if platform.settings.backend == "gcp":
        from shared.adapters.gcp.alpaca_accounts import AlpacaBrokerAccounts

        return AlpacaBrokerAccounts.from_env(platform.documents)  # keys only from the environment
    from shared.adapters.local.broker_accounts import SimulatedAccounts

    return SimulatedAccounts(platform.documents)


def deployments(*, endpoint: str | None = None) -> Deployments:
    """Build the view of deployed services: Cloud Run, where Gen2 functions run (any backend).

    `endpoint` overrides the Cloud Run Admin API host (a regional endpoint or a local fake).
    """
    from shared.adapters.gcp.cloud_run import CloudRunDeployments

    return CloudRunDeployments(endpoint=endpoint)
