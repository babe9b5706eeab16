"""GkeOrchestrator: one single-replica StatefulSet per agent, rendered from runtime/k8s/.

The manifest is a template in the repo (`runtime/k8s/statefulset.yaml`), rendered with
`render_statefulset` so tests check exactly what is applied. The kubernetes client is created
on first use: with FARM_GKE_CLUSTER set (Cloud Functions, outside the cluster) from the GKE
API's endpoint and CA and a Google token (`gke_cluster`); otherwise from in-cluster config (or
the local kubeconfig). API errors become platform errors.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from string import Template
from typing import Any, TypeVar

import yaml

from shared.adapters.gcp import gke_cluster
from shared.errors import (
    BackendAccessError,
    ConflictError,
    FarmError,
    NotFoundError,
    TransientError,
)
from shared.ports.orchestrator import RuntimeSpec, RuntimeState, RuntimeStatus
from shared.settings import Settings

K8S_DIR = Path(__file__).resolve().parents[3] / "runtime" / "k8s"
NAMESPACE = "farm-agents"
ALPACA_SECRET = "farm-alpaca"
SERVICE_ACCOUNT = "farm-runtime"  # runtime/k8s/serviceaccount.yaml (Workload Identity)
APP_LABEL = "app.kubernetes.io/name=farm-runtime"
# (connect, read) seconds for every Kubernetes API call: an unreachable control plane must fail
# the request that needed it, not hold the function until the TCP timeout.
TIMEOUT = (5.0, 30.0)
T = TypeVar("T")


def workload_name(agent_id: str) -> str:
    """A DNS-1123 StatefulSet name for `agent_id` (short enough for pod names)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", agent_id.lower()).strip("-")[:40].strip("-")
    if not slug:
        raise ValueError(f"agent id {agent_id!r} gives no usable Kubernetes name")
    return f"agent-{slug}"


def default_image(settings: Settings) -> str:
    """The runtime image Cloud Build pushes (Artifact Registry in the project's region)."""
    return f"{settings.gcp_region}-docker.pkg.dev/{settings.gcp_project}/farm/runtime:latest"


def render_statefulset(agent_id: str, session_id: str, spec: RuntimeSpec, *, settings: Settings,
                       image: str | None = None, namespace: str = NAMESPACE) -> dict[str, Any]:
    """The StatefulSet manifest of one agent's runtime, as a dict ready for the API."""
    if spec.env:
        raise ValueError("GKE runtimes take no extra env: settings come from the template")
    text = Template((K8S_DIR / "statefulset.yaml").read_text()).substitute(
        name=workload_name(agent_id), namespace=namespace, agent_id=agent_id, session_id=session_id,
        image=image or default_image(settings), project=settings.gcp_project or "", region=settings.gcp_region,
        secret=ALPACA_SECRET, service_account=SERVICE_ACCOUNT, cpu=f"{int(spec.cpu * 1000)}m", cpu_request=f"{int(spec.cpu * 500)}m",
        memory=f"{spec.memory_mb}Mi", memory_request=f"{spec.memory_mb // 2}Mi",
    )
    return yaml.safe_load(text)


class GkeOrchestrator:
    """`Orchestrator` over the Kubernetes API of the platform's GKE cluster."""

    def __init__(self, settings: Settings, *, namespace: str = NAMESPACE, image: str | None = None,
                 apps_api: Any = None, credentials: Any = None) -> None:
        self.settings, self.namespace, self.image = settings, namespace, image
        self._apps = apps_api
        self._credentials = credentials  # Google credentials for FARM_GKE_CLUSTER (default: ADC)
        self._lock = threading.Lock()

    @property
    def apps(self) -> Any:
        """The AppsV1Api client, created on first use."""
        with self._lock:
            if self._apps is None:
                from kubernetes import client

                self._apps = client.AppsV1Api(self._api_client())
            return self._apps

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
        return None  # AppsV1Api then uses the default configuration the loader just set

    def start(self, agent_id: str, session_id: str, spec: RuntimeSpec) -> RuntimeStatus:
        """Create the agent's StatefulSet; replace it when it runs another session."""
        body = render_statefulset(agent_id, session_id, spec, settings=self.settings, image=self.image,
                                  namespace=self.namespace)
        try:
            self._call(lambda apps: apps.create_namespaced_stateful_set(self.namespace, body, _request_timeout=TIMEOUT))
        except ConflictError:
            self._call(lambda apps: apps.patch_namespaced_stateful_set(workload_name(agent_id), self.namespace, body,
                                                                        _request_timeout=TIMEOUT))
        return RuntimeStatus(agent_id, session_id, "starting")

    def stop(self, agent_id: str, *, timeout_s: float = 20.0) -> RuntimeStatus:
        """Delete the StatefulSet; the pod gets SIGTERM and its grace period."""
        from kubernetes import client

        current = self.status(agent_id)
        options = client.V1DeleteOptions(grace_period_seconds=int(timeout_s), propagation_policy="Foreground")
        try:
            self._call(lambda apps: apps.delete_namespaced_stateful_set(workload_name(agent_id), self.namespace,
                                                                        body=options, _request_timeout=TIMEOUT))
        except NotFoundError:
            pass  # already gone: stopping is idempotent
        return RuntimeStatus(agent_id, current.session_id, "stopped")

    def status(self, agent_id: str) -> RuntimeStatus:
        """Where the agent's StatefulSet is; "unknown" when there is none."""
        try:
            found = self._call(lambda apps: apps.read_namespaced_stateful_set(workload_name(agent_id), self.namespace,
                                                                                  _request_timeout=TIMEOUT))
        except NotFoundError:
            return RuntimeStatus(agent_id, "", "unknown")
        return _status_of(found)

    def list(self) -> list[RuntimeStatus]:
        """Every runtime StatefulSet in the namespace."""
        found = self._call(lambda apps: apps.list_namespaced_stateful_set(self.namespace, label_selector=APP_LABEL,
                                                                             _request_timeout=TIMEOUT))
        return [_status_of(item) for item in found.items]

    def _call(self, fn: Callable[[Any], T]) -> T:
        """Run `fn(apps)`, turning Kubernetes API and transport errors into platform errors."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError, MaxRetryError, SSLError

        try:
            return fn(self.apps)
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
                    self._apps = None  # the next call reads the CA again, in case the cluster rotated it
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

