"""CloudRunDeployments: the deployments port over the Cloud Run Admin API v2 (google-cloud-run).

Gen2 Cloud Functions are Cloud Run services, so listing services shows every deployed function.
The `ServicesClient` is created on first use, never at import time. `endpoint` points it at
another API host (a regional endpoint, or a local fake over plain http; an http endpoint gets
anonymous credentials so no real token ever travels unencrypted). Google API errors become
`shared.errors` types (shared.adapters.gcp.errors).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from shared.adapters.gcp.errors import CLOUD_RUN
from shared.errors import InvalidInputError, NotFoundError
from shared.ports.deployments import ServiceStatus

T = TypeVar("T")
_REASON_FIELDS = ("reason", "revision_reason", "execution_reason")  # the Condition's `reasons` oneof


class CloudRunDeployments:
    """Read Cloud Run services with google-cloud-run (REST transport: no gRPC channel to keep)."""

    def __init__(self, *, endpoint: str | None = None, credentials: Any = None, timeout_s: float = 10.0) -> None:
        self.endpoint = endpoint
        self.credentials = credentials
        self.timeout_s = timeout_s
        self._client: Any = None
        self._lock = threading.Lock()

    def list_services(self, project: str, region: str) -> list[ServiceStatus]:
        """Every service in `project`/`region` (all pages), sorted by name."""
        parent = f"projects/{_segment('project', project)}/locations/{_segment('region', region)}"
        services = self._call(lambda client: list(client.list_services(parent=parent, timeout=self.timeout_s)))
        return sorted((service_status(s) for s in services), key=lambda s: s.name)

    def get_service(self, project: str, region: str, name: str) -> ServiceStatus | None:
        """The service `name`, or None when it is not deployed in `project`/`region`."""
        path = (f"projects/{_segment('project', project)}/locations/{_segment('region', region)}"
                f"/services/{_segment('service name', name)}")
        try:
            return service_status(self._call(lambda client: client.get_service(name=path, timeout=self.timeout_s)))
        except NotFoundError:
            return None

    def _call(self, fn: Callable[[Any], T]) -> T:
        with CLOUD_RUN.translated(f"at {self.endpoint or 'the Cloud Run Admin API'}"):
            return fn(self._get_client())

    def _get_client(self) -> Any:
        with self._lock:
            if self._client is None:
                from google.auth.credentials import AnonymousCredentials
                from google.cloud import run_v2

                credentials = self.credentials
                if credentials is None and (self.endpoint or "").startswith("http://"):
                    credentials = AnonymousCredentials()
                options = {"api_endpoint": self.endpoint} if self.endpoint else None
                self._client = run_v2.ServicesClient(
                    credentials=credentials, transport="rest", client_options=options
                )
            return self._client


def service_status(service: Any) -> ServiceStatus:
    """Translate a `run_v2.Service` into the port's ServiceStatus."""
    from google.cloud.run_v2 import Condition

    terminal = service.terminal_condition
    ready = terminal.state == Condition.State.CONDITION_SUCCEEDED
    latest_ready = _short(service.latest_ready_revision)
    latest_created = _short(service.latest_created_revision)
    if not ready:
        reason = _condition_text(terminal)
    elif latest_created and latest_created != latest_ready:
        # Still serving the old revision while a newer one rolls out (or failed to).
        reason = f"latest created revision {latest_created} is not ready yet"
    else:
        reason = None
    url = service.uri or (service.urls[0] if service.urls else None)
    return ServiceStatus(_short(service.name) or "", url or None, latest_ready, ready, reason)


def _condition_text(condition: Any) -> str:
    parts = [getattr(condition, field).name for field in _REASON_FIELDS if int(getattr(condition, field))]
    state = condition.state.name.removeprefix("CONDITION_").lower() if int(condition.state) else "unknown"
    head = f"{state}: {parts[0]}" if parts else state
    return f"{head}: {condition.message}" if condition.message else head


def _short(resource: str) -> str | None:
    return resource.rsplit("/", 1)[-1] or None


def _segment(what: str, value: str) -> str:
    if not value or "/" in value or value.strip() != value:
        raise InvalidInputError(f"{what} must be a non-empty name without '/' or spaces, got {value!r}")
    return value

