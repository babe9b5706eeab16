"""GkeOrchestrator: one session per agent, a trusted host pod and an untrusted agent pod.

Per session it applies what `gke_manifests` renders from runtime/k8s/ (docs/trust-boundary.md):
the host StatefulSet (credentials, never agent code), then, owned by it (ownerReferences, so
deleting the host deletes the rest), the channel's token Secret, the host's Service, the two
NetworkPolicies and the agent's gVisor StatefulSet, which is given the Service's cluster IP.
The kubernetes client is created on first use: with FARM_GKE_CLUSTER set (Cloud Functions,
outside the cluster) from the GKE API's endpoint and CA and a Google token (`gke_cluster`);
otherwise from in-cluster config (or the local kubeconfig). API errors become platform errors.
`status` and `list` also read the host's pod: the kubelet restarts a crashed runtime by itself,
and the pod says how often (`gke_runtime_pods`); `shared.services.runtime_watch` applies the
restart budget to what they report.
"""

from __future__ import annotations

import builtins
import json
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from shared.adapters.gcp import gke_cluster
from shared.adapters.gcp.gke_manifests import (
    ALPACA_SECRET,
    K8S_DIR,
    NAMESPACE,
    SERVICE_ACCOUNT,
    default_image,
    render_channel,
    render_sandbox,
    render_statefulset,
    workload_name,
)
from shared.adapters.gcp.gke_runtime_pods import pods_by_workload, with_pod
from shared.errors import (
    BackendAccessError,
    ConflictError,
    FarmError,
    NotFoundError,
    TransientError,
)
from shared.ports.orchestrator import RuntimeSpec, RuntimeState, RuntimeStatus
from shared.settings import Settings

__all__ = ["ALPACA_SECRET", "K8S_DIR", "NAMESPACE", "SERVICE_ACCOUNT", "GkeOrchestrator", "default_image",
           "render_statefulset", "workload_name"]
APP_LABEL = "app.kubernetes.io/name=farm-runtime"  # host StatefulSets only: one per agent
# (connect, read) seconds for every Kubernetes API call: an unreachable control plane must fail
# the request that needed it, not hold the function until the TCP timeout.
TIMEOUT = (5.0, 30.0)
T = TypeVar("T")


@dataclass(frozen=True)
class Clients:
    """The API groups a session touches, over one connection's configuration."""

    apps: Any
    core: Any
    networking: Any


class GkeOrchestrator:
    """`Orchestrator` over the Kubernetes API of the platform's GKE cluster."""

    def __init__(self, settings: Settings, *, namespace: str = NAMESPACE, image: str | None = None,
                 credentials: Any = None) -> None:
        self.settings, self.namespace, self.image = settings, namespace, image
        self._clients: Clients | None = None
        self._credentials = credentials  # Google credentials for FARM_GKE_CLUSTER (default: ADC)
        self._lock = threading.Lock()

    @property
    def clients(self) -> Clients:
        """The API clients, created on first use from one cluster read."""
        with self._lock:
            if self._clients is None:
                from kubernetes import client

                api = self._api_client()
                self._clients = Clients(apps=client.AppsV1Api(api),
                                        core=client.CoreV1Api(api), networking=client.NetworkingV1Api(api))
            return self._clients

    def _api_client(self) -> Any:
        """The cluster's client from the GKE API when a cluster is set; else the ambient config."""
        if self.settings.gke_cluster:
            credentials = self._credentials or gke_cluster.default_credentials()
            endpoint = gke_cluster.read_cluster(
                credentials, project=self.settings.gcp_project or "", location=self.settings.gke_cluster_location,
                name=self.settings.gke_cluster, api_url=self.settings.gke_api_url,
                private=self.settings.gke_endpoint == "private")
            return gke_cluster.api_client(endpoint, credentials)
        from kubernetes import config

        try:
            config.load_incluster_config()
        except config.ConfigException:
            config.load_kube_config()
        return None  # the API classes then use the default configuration the loader just set

    def start(self, agent_id: str, session_id: str, spec: RuntimeSpec) -> RuntimeStatus:
        """Apply the session: host first, then (owned by it) channel, policies and agent."""
        ns = self.namespace
        host = render_statefulset(agent_id, session_id, spec, settings=self.settings, image=self.image, namespace=ns)
        name = host["metadata"]["name"]
        try:
            applied = self._call(lambda c: c.apps.create_namespaced_stateful_set(ns, host, _request_timeout=TIMEOUT))
        except ConflictError:
            applied = self._call(lambda c: c.apps.patch_namespaced_stateful_set(name, ns, host,
                                                                                 _request_timeout=TIMEOUT))
        owner = {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": name, "uid": applied.metadata.uid}
        secret, service, *policies = render_channel(agent_id, session_id, token=secrets.token_urlsafe(32),
                                                    namespace=ns)
        for document in (secret, service, *policies):
            document["metadata"]["ownerReferences"] = [owner]
        try:
            self._call(lambda c: c.core.create_namespaced_secret(ns, secret, _request_timeout=TIMEOUT))
        except ConflictError:
            pass  # this session's token exists: both pods keep the one they were started with
        channel = self._create_or_patch(service, lambda c: c.core.create_namespaced_service,
                                        lambda c: c.core.patch_namespaced_service)
        for policy in policies:
            self._create_or_patch(policy, lambda c: c.networking.create_namespaced_network_policy,
                                  lambda c: c.networking.patch_namespaced_network_policy)
        agent = render_sandbox(agent_id, session_id, spec, channel_ip=channel.spec.cluster_ip, settings=self.settings,
                               image=self.image, namespace=ns)
        agent["metadata"]["ownerReferences"] = [owner]
        self._create_or_patch(agent, lambda c: c.apps.create_namespaced_stateful_set,
                              lambda c: c.apps.patch_namespaced_stateful_set)
        return RuntimeStatus(agent_id, session_id, "starting")

    def _create_or_patch(self, body: dict[str, Any], create: Callable[[Clients], Any],
                         patch: Callable[[Clients], Any]) -> Any:
        """Create `body`; patch it when it exists. Returns the applied object."""
        try:
            return self._call(lambda c: create(c)(self.namespace, body, _request_timeout=TIMEOUT))
        except ConflictError:
            name = body["metadata"]["name"]
            return self._call(lambda c: patch(c)(name, self.namespace, body, _request_timeout=TIMEOUT))

    def stop(self, agent_id: str, *, timeout_s: float = 20.0, session_id: str | None = None) -> RuntimeStatus:
        """Delete the host StatefulSet: its pod gets SIGTERM and its grace period, and the garbage
        collector deletes what it owns (the agent's StatefulSet, the channel, the policies).

        With `session_id`, only while it runs that session: the delete carries the read's
        resourceVersion as a precondition, so a session started meanwhile is never deleted.
        """
        from kubernetes import client

        found = self._read(agent_id)
        current = _status_of(found) if found is not None else RuntimeStatus(agent_id, "", "unknown")
        if session_id is not None and current.session_id != session_id:
            return current
        preconditions = client.V1Preconditions(resource_version=found.metadata.resource_version) if (
            session_id is not None and found is not None) else None
        options = client.V1DeleteOptions(grace_period_seconds=int(timeout_s), propagation_policy="Foreground",
                                         preconditions=preconditions)
        try:
            self._call(lambda c: c.apps.delete_namespaced_stateful_set(workload_name(agent_id), self.namespace,
                                                                        body=options, _request_timeout=TIMEOUT))
        except NotFoundError:
            pass  # already gone: stopping is idempotent
        except ConflictError:
            return self.status(agent_id)  # changed since the read (a new session): left running
        return RuntimeStatus(agent_id, current.session_id, "stopped")

    def status(self, agent_id: str) -> RuntimeStatus:
        """Where the agent's runtime is, with its pod's restarts; "unknown" when there is none."""
        found = self._read(agent_id)
        if found is None:
            return RuntimeStatus(agent_id, "", "unknown")
        return self._with_pods([found], f"{APP_LABEL},farm.dev/runtime={found.metadata.name}")[0]

    def close(self) -> None:
        """Runtimes are StatefulSets that outlive this process: only drop the API clients."""
        with self._lock:
            self._clients = None

    def list(self) -> list[RuntimeStatus]:
        """Every runtime in the namespace, with its pod's restarts."""
        found = self._call(lambda c: c.apps.list_namespaced_stateful_set(self.namespace, label_selector=APP_LABEL,
                                                                             _request_timeout=TIMEOUT))
        return self._with_pods(found.items, APP_LABEL) if found.items else []

    def _read(self, agent_id: str) -> Any | None:
        """The agent's host StatefulSet; None when there is none."""
        try:
            return self._call(lambda c: c.apps.read_namespaced_stateful_set(workload_name(agent_id), self.namespace,
                                                                                _request_timeout=TIMEOUT))
        except NotFoundError:
            return None

    def _with_pods(self, workloads: Sequence[Any], selector: str) -> builtins.list[RuntimeStatus]:
        """The workloads' statuses, each with what its pod says (pods chosen by `selector`)."""
        pods = self._call(lambda c: c.core.list_namespaced_pod(self.namespace, label_selector=selector,
                                                               _request_timeout=TIMEOUT))
        by_workload = pods_by_workload(pods.items)
        return [with_pod(_status_of(w), by_workload.get(w.metadata.name)) for w in workloads]

    def _call(self, fn: Callable[[Clients], T]) -> T:
        """Run `fn(clients)`, turning Kubernetes API and transport errors into platform errors."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError, MaxRetryError, SSLError

        try:
            return fn(self.clients)
        except ApiException as exc:
            error: type[FarmError] = {401: BackendAccessError, 403: BackendAccessError, 404: NotFoundError,
                                      409: ConflictError}.get(exc.status or 0, TransientError)
            raise error(f"Kubernetes API answered {exc.status}: {_api_message(exc)}") from None
        except HTTPError as exc:
            cause = exc.reason if isinstance(exc, MaxRetryError) else exc
            if not isinstance(cause, SSLError):
                raise TransientError(f"Kubernetes API unreachable: {type(exc).__name__}") from None
            if self.settings.gke_cluster:
                with self._lock:
                    self._clients = None  # the next call reads the CA again, in case the cluster rotated it
            # Not a TransientError: a server that fails verification is refused, never retried blindly.
            raise FarmError(f"Kubernetes API failed TLS verification, nothing was sent: {cause}") from None


def _api_message(exc: Any) -> str:
    """The API server's own explanation (RBAC names the user, verb and resource), else the reason."""
    try:
        return json.loads(exc.body)["message"]
    except (TypeError, ValueError, KeyError):
        return str(exc.reason)


def _status_of(workload: Any) -> RuntimeStatus:
    meta, status = workload.metadata, workload.status
    agent_id = (meta.labels or {}).get("farm.dev/agent-id", "")
    session_id = (meta.annotations or {}).get("farm.dev/session-id", "")
    ready = (status.ready_replicas or 0) if status else 0
    state: RuntimeState = "running" if ready >= 1 else "starting"
    return RuntimeStatus(agent_id, session_id, state)

