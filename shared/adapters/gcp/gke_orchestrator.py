"""GkeOrchestrator: one single-replica StatefulSet per agent, rendered from runtime/k8s/.

The manifest is a template in the repo (`runtime/k8s/statefulset.yaml`), rendered with
`render_statefulset` so tests check exactly what is applied. The kubernetes client is created
on first use from in-cluster config (or the local kubeconfig); API errors become platform
errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from string import Template
from typing import Any, TypeVar

import yaml

from shared.errors import (
    ConflictError,
    FarmError,
    NotFoundError,
    PermissionDeniedError,
    TransientError,
)
from shared.ports.orchestrator import RuntimeSpec, RuntimeState, RuntimeStatus
from shared.settings import Settings

K8S_DIR = Path(__file__).resolve().parents[3] / "runtime" / "k8s"
NAMESPACE = "farm-agents"
ALPACA_SECRET = "farm-alpaca"
SERVICE_ACCOUNT = "farm-runtime"  # runtime/k8s/serviceaccount.yaml (Workload Identity)
APP_LABEL = "app.kubernetes.io/name=farm-runtime"
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
                 apps_api: Any = None) -> None:
        self.settings, self.namespace, self.image = settings, namespace, image
        self._apps = apps_api

    @property
    def apps(self) -> Any:
        """The AppsV1Api client, created on first use."""
        if self._apps is None:
            from kubernetes import client, config

            try:
                config.load_incluster_config()
            except config.ConfigException:
                config.load_kube_config()
            self._apps = client.AppsV1Api()
        return self._apps

    def start(self, agent_id: str, session_id: str, spec: RuntimeSpec) -> RuntimeStatus:
        """Create the agent's StatefulSet; replace it when it runs another session."""
        body = render_statefulset(agent_id, session_id, spec, settings=self.settings, image=self.image,
                                  namespace=self.namespace)
        try:
            _call(lambda: self.apps.create_namespaced_stateful_set(self.namespace, body))
        except ConflictError:
            _call(lambda: self.apps.patch_namespaced_stateful_set(workload_name(agent_id), self.namespace, body))
        return RuntimeStatus(agent_id, session_id, "starting")

    def stop(self, agent_id: str, *, timeout_s: float = 20.0) -> RuntimeStatus:
        """Delete the StatefulSet; the pod gets SIGTERM and its grace period."""
        from kubernetes import client

        current = self.status(agent_id)
        options = client.V1DeleteOptions(grace_period_seconds=int(timeout_s), propagation_policy="Foreground")
        try:
            _call(lambda: self.apps.delete_namespaced_stateful_set(workload_name(agent_id), self.namespace, body=options))
        except NotFoundError:
            pass  # already gone: stopping is idempotent
        return RuntimeStatus(agent_id, current.session_id, "stopped")

    def status(self, agent_id: str) -> RuntimeStatus:
        """Where the agent's StatefulSet is; "unknown" when there is none."""
        try:
            found = _call(lambda: self.apps.read_namespaced_stateful_set(workload_name(agent_id), self.namespace))
        except NotFoundError:
            return RuntimeStatus(agent_id, "", "unknown")
        return _status_of(found)

    def list(self) -> list[RuntimeStatus]:
        """Every runtime StatefulSet in the namespace."""
        found = _call(lambda: self.apps.list_namespaced_stateful_set(self.namespace, label_selector=APP_LABEL))
        return [_status_of(item) for item in found.items]


def _status_of(workload: Any) -> RuntimeStatus:
    meta, status = workload.metadata, workload.status
    agent_id = (meta.labels or {}).get("farm.dev/agent-id", "")
    session_id = (meta.annotations or {}).get("farm.dev/session-id", "")
    ready = (status.ready_replicas or 0) if status else 0
    state: RuntimeState = "running" if ready >= 1 else "starting"
    return RuntimeStatus(agent_id, session_id, state)


def _call(fn: Callable[[], T]) -> T:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        return fn()
    except ApiException as exc:
        message = f"Kubernetes API answered {exc.status}: {exc.reason}"
        error: type[FarmError] = {404: NotFoundError, 409: ConflictError, 403: PermissionDeniedError}.get(
            exc.status or 0, TransientError)
        raise error(message) from None
    except HTTPError as exc:
        raise TransientError(f"Kubernetes API unreachable: {type(exc).__name__}") from None
