"""Every adapter, checked by the type checker against the port it implements.

Ports are `typing.Protocol`s: nothing at run time says that `SqliteDocumentStore` is a
`DocumentStore`. Each function below returns an adapter as its port, so `mypy` (run by
`make test`, configured in pyproject.toml) fails when an adapter's method is missing or its
signature drifts from the port's. Nothing calls these functions and importing this module
imports no adapter: the imports exist for the checker only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.adapters.gcp.bigquery import BigQueryWarehouse
    from shared.adapters.gcp.cloud_build import CloudBuildJobLauncher
    from shared.adapters.gcp.cloud_run import CloudRunDeployments
    from shared.adapters.gcp.firebase_identity import FirebaseIdentityVerifier
    from shared.adapters.gcp.firestore import FirestoreDocumentStore, FirestoreTransaction
    from shared.adapters.gcp.firestore_watch import FirestoreWatch
    from shared.adapters.gcp.gke_orchestrator import GkeOrchestrator
    from shared.adapters.gcp.pubsub import PubSubMessageBus
    from shared.adapters.gcp.storage import GcsBlobStore
    from shared.adapters.local.blobs import DirectoryBlobStore
    from shared.adapters.local.document_feed import SqliteWatch
    from shared.adapters.local.document_transaction import SqliteTransaction
    from shared.adapters.local.documents import SqliteDocumentStore
    from shared.adapters.local.job_launcher import LocalJobLauncher
    from shared.adapters.local.local_identity import LocalIdentityVerifier
    from shared.adapters.local.memory_cache import InProcessCache, InProcessRateLimiter
    from shared.adapters.local.messages import EmbeddedMessageBus
    from shared.adapters.local.orchestrator import LocalOrchestrator
    from shared.adapters.local.reconcile_launcher import LocalReconciliationLauncher
    from shared.adapters.local.warehouse import DuckDbWarehouse
    from shared.adapters.redis_cache import RedisCache, RedisRateLimiter
    from shared.ports.blobs import BlobStore
    from shared.ports.cache import Cache, RateLimiter
    from shared.ports.deployments import Deployments
    from shared.ports.documents import DocumentStore, Transaction, Watch
    from shared.ports.identity import IdentityVerifier
    from shared.ports.jobs import JobLauncher
    from shared.ports.messages import MessageBus
    from shared.ports.orchestrator import Orchestrator
    from shared.ports.warehouse import Warehouse
    from shared.services.reconciliations import ReconciliationLauncher


def documents(local: SqliteDocumentStore, gcp: FirestoreDocumentStore) -> tuple[DocumentStore, DocumentStore]:
    """The document stores."""
    return local, gcp


def transactions(local: SqliteTransaction, gcp: FirestoreTransaction) -> tuple[Transaction, Transaction]:
    """The transactions the document stores hand to `run_transaction`'s function."""
    return local, gcp


def watches(local: SqliteWatch, gcp: FirestoreWatch) -> tuple[Watch, Watch]:
    """The change feeds of the document stores."""
    return local, gcp


def messages(local: EmbeddedMessageBus, gcp: PubSubMessageBus) -> tuple[MessageBus, MessageBus]:
    """The message buses."""
    return local, gcp


def warehouses(local: DuckDbWarehouse, gcp: BigQueryWarehouse) -> tuple[Warehouse, Warehouse]:
    """The warehouses."""
    return local, gcp


def blobs(local: DirectoryBlobStore, gcp: GcsBlobStore) -> tuple[BlobStore, BlobStore]:
    """The blob stores."""
    return local, gcp


def caches(local: InProcessCache, redis: RedisCache) -> tuple[Cache, Cache]:
    """The caches."""
    return local, redis


def rate_limiters(local: InProcessRateLimiter, redis: RedisRateLimiter) -> tuple[RateLimiter, RateLimiter]:
    """The rate limiters."""
    return local, redis


def identities(local: LocalIdentityVerifier, gcp: FirebaseIdentityVerifier) -> tuple[IdentityVerifier, ...]:
    """The identity verifiers."""
    return local, gcp


def orchestrators(local: LocalOrchestrator, gcp: GkeOrchestrator) -> tuple[Orchestrator, Orchestrator]:
    """The runtime orchestrators."""
    return local, gcp


def job_launchers(local: LocalJobLauncher, gcp: CloudBuildJobLauncher) -> tuple[JobLauncher, JobLauncher]:
    """The backtest job launchers."""
    return local, gcp


def reconcile_launchers(local: LocalReconciliationLauncher) -> ReconciliationLauncher:
    """The reconciliation job launcher (on Google Cloud, the Cloud Build launcher runs them)."""
    return local


def deployments(gcp: CloudRunDeployments) -> Deployments:
    """The function deployments (Cloud Run only: locally `farm up` hosts the functions)."""
    return gcp
