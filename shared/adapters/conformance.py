"""Every adapter, checked by the type checker against the port it implements.

Ports are `typing.Protocol`s: nothing at run time says that `SqliteDocumentStore` is a
`DocumentStore`. The function below assigns every adapter to the port it implements, one line
per port, so `mypy` (run by `make test`, configured in pyproject.toml) fails, naming the adapter
and the member, when an adapter's method is missing or its signature drifts from the port's.
Nothing calls it, and importing this module imports no adapter: the imports are the checker's.
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
    from shared.adapters.memory import MemoryBlobStore, MemoryDocumentStore, MemoryIdentityVerifier, MemoryMessageBus
    from shared.adapters.memory.documents import MemoryWatch
    from shared.adapters.redis_cache import RedisCache, RedisRateLimiter
    from shared.ports.blobs import BlobStore
    from shared.ports.broker import BrokerAccounts, TradingBroker
    from shared.ports.cache import Cache, RateLimiter
    from shared.ports.deployments import Deployments
    from shared.ports.documents import DocumentStore, Transaction, Watch
    from shared.ports.identity import IdentityVerifier
    from shared.ports.jobs import JobLauncher
    from shared.ports.messages import MessageBus
    from shared.ports.orchestrator import Orchestrator
    from shared.ports.warehouse import Warehouse
    from shared.services.reconciliations import ReconciliationLauncher
    from shared.venues.alpaca.accounts import AlpacaBrokerAccounts
    from shared.venues.alpaca.execution import AlpacaBroker
    from shared.venues.simulated.accounts import SimulatedAccounts
    from shared.venues.simulated.execution import SimulatedBroker



def adapters_satisfy_their_ports(
    sqlite: SqliteDocumentStore, firestore: FirestoreDocumentStore, memory_documents: MemoryDocumentStore,
    sqlite_transaction: SqliteTransaction, firestore_transaction: FirestoreTransaction,
    sqlite_watch: SqliteWatch, firestore_watch: FirestoreWatch, memory_watch: MemoryWatch,
    embedded_bus: EmbeddedMessageBus, pubsub: PubSubMessageBus, memory_bus: MemoryMessageBus,
    duckdb: DuckDbWarehouse, bigquery: BigQueryWarehouse,
    directory: DirectoryBlobStore, gcs: GcsBlobStore, memory_blobs: MemoryBlobStore,
    in_process_cache: InProcessCache, redis_cache: RedisCache,
    in_process_limiter: InProcessRateLimiter, redis_limiter: RedisRateLimiter,
    local_identity: LocalIdentityVerifier, firebase: FirebaseIdentityVerifier, memory_identity: MemoryIdentityVerifier,
    subprocesses: LocalOrchestrator, gke: GkeOrchestrator,
    local_jobs: LocalJobLauncher, cloud_build: CloudBuildJobLauncher,
    local_reconciliations: LocalReconciliationLauncher,
    cloud_run: CloudRunDeployments,
    simulated_accounts: SimulatedAccounts, alpaca_accounts: AlpacaBrokerAccounts,
    simulated_broker: SimulatedBroker, alpaca_broker: AlpacaBroker,
) -> None:
    """One line per port, listing its adapters: mypy names the adapter and the member that differ."""
    _documents: list[DocumentStore] = [sqlite, firestore, memory_documents]
    _transactions: list[Transaction] = [sqlite_transaction, firestore_transaction]
    _watches: list[Watch] = [sqlite_watch, firestore_watch, memory_watch]
    _buses: list[MessageBus] = [embedded_bus, pubsub, memory_bus]
    _warehouses: list[Warehouse] = [duckdb, bigquery]  # memory: the DuckDB warehouse in a scratch directory
    _blobs: list[BlobStore] = [directory, gcs, memory_blobs]
    _caches: list[Cache] = [in_process_cache, redis_cache]  # memory: the in-process ones
    _limiters: list[RateLimiter] = [in_process_limiter, redis_limiter]
    _identities: list[IdentityVerifier] = [local_identity, firebase, memory_identity]
    _orchestrators: list[Orchestrator] = [subprocesses, gke]
    _job_launchers: list[JobLauncher] = [local_jobs, cloud_build]
    # Reconciliations run on the local launcher's subprocesses, or as Cloud Builds of jobs.reconcile.
    _reconcile_launchers: list[ReconciliationLauncher] = [local_reconciliations]
    _deployments: list[Deployments] = [cloud_run]  # locally `farm up` hosts the functions
    # The venues' adapters (shared/venues/<venue>/): accounts, and the runtime's broker.
    _accounts: list[BrokerAccounts] = [simulated_accounts, alpaca_accounts]
    _brokers: list[TradingBroker] = [simulated_broker, alpaca_broker]
