"""Reach a GKE cluster's Kubernetes API from outside the cluster (Cloud Functions).

As `gcloud container clusters get-credentials` does: GET the cluster from the GKE API
(`container.clusters.get`: roles/container.clusterViewer is enough) for its endpoint and CA;
then talk to `https://<endpoint>`, verifying the server against that CA only, with the caller's
Google OAuth token, refreshed before it expires. What the token may do inside the cluster is
Kubernetes RBAC's decision (runtime/k8s/rbac.yaml), not IAM's. Failures become `shared.errors`
types.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from shared.errors import (
    BackendAccessError,
    FarmError,
    SettingsError,
    TransientError,
)

GKE_API = "https://container.googleapis.com"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


@dataclass(frozen=True)
class ClusterEndpoint:
    """Where a cluster's Kubernetes API answers and the CA that signs its certificate."""

    host: str  # https://<endpoint>
    ca_pem: str


def default_credentials() -> Any:
    """Application-default Google credentials with the cloud-platform scope."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _ = google.auth.default(scopes=SCOPES)
    except DefaultCredentialsError as exc:
        raise BackendAccessError(f"no Google credentials to reach the GKE cluster: {exc}") from exc
    return credentials


def read_cluster(credentials: Any, *, project: str, location: str, name: str, api_url: str | None = None,
                 private: bool = False, timeout_s: float = 10.0) -> ClusterEndpoint:
    """The endpoint (`private`: the control plane's private one) and CA of cluster `name`."""
    from google.auth.exceptions import RefreshError, TransportError
    from google.auth.transport.requests import AuthorizedSession
    from requests import exceptions as http_exc

    base = _safe_base(api_url or GKE_API)
    path = "/".join(quote(part, safe="") for part in ("projects", project, "locations", location, "clusters", name))
    where = f"cluster {name!r} in {project}/{location}"
    try:
        with AuthorizedSession(credentials) as session:
            response = session.get(f"{base}/v1/{path}", timeout=timeout_s)
    except RefreshError as exc:
        raise BackendAccessError(f"GKE API: the Google credentials do not refresh: {exc}") from exc
    except (TransportError, http_exc.ConnectionError, http_exc.Timeout) as exc:
        raise TransientError(f"GKE API unreachable at {base}: {type(exc).__name__}") from exc
    if response.status_code != 200:
        raise _api_error(response, where)
    try:
        cluster = response.json()
    except ValueError as exc:
        raise FarmError(f"GKE API: the answer for {where} is not JSON") from exc
    private_config = cluster.get("privateClusterConfig") or {}
    endpoint = private_config.get("privateEndpoint") if private else cluster.get("endpoint")
    ca_b64 = (cluster.get("masterAuth") or {}).get("clusterCaCertificate")
    if not endpoint or not ca_b64:
        which = "private endpoint (is it a private cluster?)" if private else "endpoint"
        raise FarmError(f"GKE API: {where} has no {which} or CA yet (status {cluster.get('status')})")
    try:
        ca_pem = base64.b64decode(ca_b64, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise FarmError(f"GKE API: {where} has a malformed clusterCaCertificate") from exc
    if "-----BEGIN CERTIFICATE-----" not in ca_pem:
        raise FarmError(f"GKE API: {where} has a clusterCaCertificate that is not a PEM certificate")
    return ClusterEndpoint(f"https://{endpoint}", ca_pem)


def api_client(endpoint: ClusterEndpoint, credentials: Any) -> Any:
    """A kubernetes `ApiClient` for `endpoint`: TLS verified against its CA, a fresh bearer token."""
    from kubernetes import client

    configuration = client.Configuration(host=endpoint.host, ca_cert_data=endpoint.ca_pem, verify_ssl=True)
    hook = _token_hook(credentials)
    configuration.refresh_api_key_hook = hook
    # The client asks the hook only when a key is present, so put the first token in now.
    hook(configuration)
    return client.ApiClient(configuration)


def _token_hook(credentials: Any) -> Any:
    """Before every request: refresh the token when it is (nearly) expired, then use it."""
    from google.auth.exceptions import RefreshError, TransportError
    from google.auth.transport.requests import Request

    lock, request = threading.Lock(), Request()

    def refresh(configuration: Any) -> None:
        with lock:
            # `valid` turns False a few minutes before expiry, so a token never expires in flight.
            if not credentials.valid:
                try:
                    credentials.refresh(request)
                except RefreshError as exc:
                    raise BackendAccessError(f"Kubernetes API: the Google credentials do not refresh: {exc}") from exc
                except TransportError as exc:
                    raise TransientError(f"Kubernetes API: cannot refresh the Google token: {exc}") from exc
            configuration.api_key["authorization"] = f"Bearer {credentials.token}"

    return refresh


def _api_error(response: Any, where: str) -> FarmError:
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.reason or "no message"
    status = response.status_code
    if status == 401:
        return BackendAccessError(f"GKE API refused the credentials for {where}: {message}")
    if status == 403:
        return BackendAccessError(
            f"GKE API: no permission to read {where} (needs container.clusters.get, "
            f"roles/container.clusterViewer): {message}")
    if status == 404:
        # Not NotFoundError: callers read that as "no such runtime"; this is a wrong setting.
        return SettingsError(f"GKE API: no {where}; check FARM_GKE_CLUSTER / FARM_GKE_LOCATION: {message}")
    if status == 429 or status >= 500:
        return TransientError(f"GKE API answered {status} for {where}: {message}")
    return FarmError(f"GKE API answered {status} for {where}: {message}")


def _safe_base(url: str) -> str:
    """`url` without its trailing slash; plain http only to this machine (a token never travels in clear)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return url.rstrip("/")
    if parts.scheme == "http" and _is_loopback(parts.hostname or ""):
        return url.rstrip("/")
    raise SettingsError(f"FARM_GKE_API_URL must be https (plain http only to localhost), got {url!r}")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
