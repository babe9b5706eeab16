"""GkeOrchestrator from outside the cluster (Cloud Functions) against a local fake GKE control plane.

The GKE API (tests/fakes/gke_api.py, HTTP) answers the cluster GET with an endpoint and a CA; the
Kubernetes API server (tests/fakes/kube_apiserver.py) speaks HTTPS with a certificate that CA
signed, checks the Google bearer token and applies RBAC read from the repo's runtime/k8s/rbac.yaml
(PROJECT_ID substituted as cloudbuild.yaml does). Who may read the cluster follows terraform's
project roles. The real kubernetes client and real TLS verification run; only Google's token
service is in-process (tests/fakes/google_tokens.py).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import yaml

from shared.adapters.gcp import gke_cluster
from shared.adapters.gcp.gke_orchestrator import (
    NAMESPACE,
    GkeOrchestrator,
    render_statefulset,
)
from shared.errors import (
    BackendAccessError,
    FarmError,
    SettingsError,
    TransientError,
)
from shared.ports.orchestrator import RuntimeSpec, RuntimeStatus
from shared.settings import Settings
from tests.fakes.certificates import CertificateAuthority
from tests.fakes.gke_api import FakeGkeApi
from tests.fakes.gke_control_plane import CLUSTER, FUNCTIONS, PROJECT, REGION, deployed_rbac
from tests.fakes.google_tokens import IssuedCredentials, TokenIssuer
from tests.fakes.kube_apiserver import FakeKubeApiServer
from tests.fixtures.common import free_port
from tests.infra.terraform_model import model

INGESTER = f"farm-ingester@{PROJECT}.iam.gserviceaccount.com"
BACKTEST = f"farm-backtest@{PROJECT}.iam.gserviceaccount.com"
# Predefined roles that hold container.clusters.get (what reading the cluster needs).
CLUSTER_GET_ROLES = {"roles/container.clusterViewer", "roles/container.viewer", "roles/container.developer",
                     "roles/container.clusterAdmin", "roles/container.admin"}
SPEC = RuntimeSpec(cpu=0.5, memory_mb=512)


def terraform_cluster_readers() -> set[str]:
    """The accounts terraform/iam.tf lets read the cluster (`farm-<key>` as iam.tf names them)."""
    roles = model()["locals"]["project_roles"]
    return {f"farm-{key}@{PROJECT}.iam.gserviceaccount.com" for key, held in roles.items()
            if CLUSTER_GET_ROLES & set(held)}


@dataclass
class ControlPlane:
    issuer: TokenIssuer
    ca: CertificateAuthority
    gke: FakeGkeApi
    kube: FakeKubeApiServer
    settings: Settings

    def orchestrator(self, account: str = FUNCTIONS, **kwargs: object) -> tuple[GkeOrchestrator, IssuedCredentials]:
        credentials = IssuedCredentials(self.issuer, account)
        return GkeOrchestrator(self.settings, credentials=credentials, **kwargs), credentials  # type: ignore[arg-type]


@pytest.fixture
def plane(tmp_path: Path) -> Iterator[ControlPlane]:
    issuer, ca = TokenIssuer(), CertificateAuthority()
    kube = FakeKubeApiServer(ca.issue_server("127.0.0.1"), tmp_path, issuer=issuer, rbac=deployed_rbac(),
                             namespaces=(NAMESPACE, "default"))
    gke = FakeGkeApi(issuer, viewers=terraform_cluster_readers())
    gke.add_cluster(PROJECT, REGION, CLUSTER, endpoint=kube.endpoint, ca_pem=ca.cert_pem)
    settings = Settings(backend="gcp", gcp_project=PROJECT, gcp_region=REGION, gke_cluster=CLUSTER,
                        gke_api_url=gke.url)
    try:
        yield ControlPlane(issuer, ca, gke, kube, settings)
    finally:
        gke.close()
        kube.close()


def test_start_status_list_and_stop_reach_the_cluster_as_the_functions_account(plane: ControlPlane) -> None:
    orchestrator, _ = plane.orchestrator()

    assert orchestrator.start("agent-1", "sess-1", SPEC) == RuntimeStatus("agent-1", "sess-1", "starting")
    applied = plane.kube.objects[(NAMESPACE, "agent-agent-1")]
    assert applied["spec"] == render_statefulset("agent-1", "sess-1", SPEC, settings=plane.settings)["spec"]
    assert orchestrator.status("agent-1") == RuntimeStatus("agent-1", "sess-1", "starting")
    plane.kube.set_ready(NAMESPACE, "agent-agent-1")
    assert orchestrator.status("agent-1").state == "running"
    assert orchestrator.list() == [RuntimeStatus("agent-1", "sess-1", "running")]

    assert orchestrator.stop("agent-1", timeout_s=30) == RuntimeStatus("agent-1", "sess-1", "stopped")
    assert all(store == {} for store in plane.kube.stores.values())  # the host owned the rest of the session
    assert plane.kube.delete_options == [{"gracePeriodSeconds": 30, "propagationPolicy": "Foreground"}]
    assert orchestrator.status("agent-1").state == "unknown"
    # The cluster was read once, as the functions account; every Kubernetes call went as that user.
    assert plane.gke.requests == [(f"/v1/projects/{PROJECT}/locations/{REGION}/clusters/{CLUSTER}", FUNCTIONS)]
    # start: host, token Secret, Service, two NetworkPolicies, agent (tests/infra/test_runtime_session_gke.py);
    # status and list read the StatefulSets and then the pods (their restarts).
    assert [(verb, user) for verb, _, user in plane.kube.requests] == [
        *[("create", FUNCTIONS)] * 6, *[("get", FUNCTIONS), ("list", FUNCTIONS)] * 2, ("list", FUNCTIONS),
        ("list", FUNCTIONS), ("get", FUNCTIONS), ("delete", FUNCTIONS), ("get", FUNCTIONS)]


def test_the_private_endpoint_setting_reaches_the_control_plane_inside_the_vpc(plane: ControlPlane) -> None:
    # Here only the "private" endpoint answers; the public one is a port nothing listens on.
    closed = f"127.0.0.1:{free_port()}"
    plane.gke.add_cluster(PROJECT, REGION, CLUSTER, endpoint=closed, ca_pem=plane.ca.cert_pem,
                          private_endpoint=plane.kube.endpoint)
    private = GkeOrchestrator(replace(plane.settings, gke_endpoint="private"),
                              credentials=IssuedCredentials(plane.issuer, FUNCTIONS))
    assert private.start("agent-1", "sess-1", SPEC).state == "starting"
    public, _ = plane.orchestrator()
    with pytest.raises(TransientError, match="unreachable"):
        public.status("agent-1")


def test_a_new_session_for_a_running_agent_patches_its_statefulset(plane: ControlPlane) -> None:
    orchestrator, _ = plane.orchestrator()
    orchestrator.start("agent-1", "sess-1", SPEC)

    orchestrator.start("agent-1", "sess-2", SPEC)

    applied = plane.kube.objects[(NAMESPACE, "agent-agent-1")]
    assert applied["metadata"]["annotations"]["farm.dev/session-id"] == "sess-2"
    assert applied["metadata"]["generation"] == 2
    # The host is patched; the new session's token is a new Secret; the rest is patched in place.
    assert [verb for verb, _, _ in plane.kube.requests][6:] == [
        "create", "patch", "create", "create", "patch", "create", "patch", "create", "patch", "create", "patch"]


def test_a_server_certificate_from_another_ca_fails_closed_before_anything_is_sent(plane: ControlPlane) -> None:
    plane.gke.add_cluster(PROJECT, REGION, CLUSTER, endpoint=plane.kube.endpoint,
                          ca_pem=CertificateAuthority("someone-else").cert_pem)
    orchestrator, _ = plane.orchestrator()

    with pytest.raises(FarmError, match="TLS verification") as failure:
        orchestrator.status("agent-1")

    assert not isinstance(failure.value, TransientError)  # refused, not retried as a hiccup
    assert "CERTIFICATE_VERIFY_FAILED" in failure.value.message
    assert plane.kube.requests == []  # no request, so no token, reached the server
    # Once the GKE API gives the right CA (say, after a rotation), the next call reads it again.
    plane.gke.add_cluster(PROJECT, REGION, CLUSTER, endpoint=plane.kube.endpoint, ca_pem=plane.ca.cert_pem)
    assert orchestrator.status("agent-1").state == "unknown"
    assert len(plane.gke.requests) == 2


def test_an_expired_token_is_refreshed_before_the_call_and_the_old_one_is_refused(plane: ControlPlane) -> None:
    orchestrator, credentials = plane.orchestrator()
    orchestrator.start("agent-1", "sess-1", SPEC)
    old = credentials.token
    assert old is not None

    plane.issuer.expire(old)  # the hour passes for Google...
    credentials.expire_now()  # ...and for the client's clock

    assert orchestrator.status("agent-1").session_id == "sess-1"
    assert credentials.token != old and credentials.refreshes == 2
    path = f"/apis/apps/v1/namespaces/{NAMESPACE}/statefulsets/agent-agent-1"
    assert plane.kube.handle("GET", path, f"Bearer {old}", "", b"")[0] == 401


def test_a_token_the_server_no_longer_accepts_is_a_backend_access_error(plane: ControlPlane) -> None:
    orchestrator, credentials = plane.orchestrator()
    orchestrator.start("agent-1", "sess-1", SPEC)
    assert credentials.token is not None
    plane.issuer.expire(credentials.token)  # revoked early: the client still believes it valid

    with pytest.raises(BackendAccessError, match="401: Unauthorized"):
        orchestrator.status("agent-1")


def test_credentials_that_no_longer_refresh_are_a_backend_access_error(plane: ControlPlane) -> None:
    orchestrator, credentials = plane.orchestrator()
    orchestrator.list()
    plane.issuer.disable(FUNCTIONS)
    credentials.expire_now()

    with pytest.raises(BackendAccessError, match="do not refresh.*disabled"):
        orchestrator.list()


def test_rbac_keeps_the_functions_account_to_the_agents_namespace(plane: ControlPlane) -> None:
    orchestrator, _ = plane.orchestrator(namespace="default")

    with pytest.raises(BackendAccessError) as denied:
        orchestrator.start("agent-1", "sess-1", SPEC)

    assert denied.value.message == (
        f'Kubernetes API answered 403: statefulsets.apps is forbidden: User "{FUNCTIONS}" cannot create '
        f'resource "statefulsets" in API group "apps" in the namespace "default"')
    assert plane.kube.objects == {}


def test_an_account_that_may_read_the_cluster_but_has_no_binding_is_forbidden_in_it(plane: ControlPlane) -> None:
    plane.gke.viewers.add(INGESTER)  # as if someone granted it clusterViewer: RBAC still says no
    orchestrator, _ = plane.orchestrator(INGESTER)

    with pytest.raises(BackendAccessError, match=f'User "{INGESTER}" cannot get resource "statefulsets"'):
        orchestrator.status("agent-1")


def test_an_account_without_cluster_viewer_cannot_even_read_the_cluster(plane: ControlPlane) -> None:
    orchestrator, _ = plane.orchestrator(BACKTEST)

    with pytest.raises(BackendAccessError, match=r"roles/container\.clusterViewer.*container\.clusters\.get"):
        orchestrator.status("agent-1")
    assert plane.kube.requests == []


def test_an_unknown_cluster_is_a_settings_error_not_a_missing_runtime(plane: ControlPlane) -> None:
    plane.settings = replace(plane.settings, gke_cluster="farm-typo")
    orchestrator, _ = plane.orchestrator()

    with pytest.raises(SettingsError, match="FARM_GKE_CLUSTER.*Not found: projects/farm-prod/locations/europe-west1"):
        orchestrator.stop("agent-1")  # never "stopped": stopping what cannot be reached is an error


def test_the_gke_api_down_is_transient(plane: ControlPlane) -> None:
    plane.settings = replace(plane.settings, gke_api_url="http://127.0.0.1:9")  # discard port: refused
    orchestrator, _ = plane.orchestrator()

    with pytest.raises(TransientError, match="GKE API unreachable"):
        orchestrator.list()


def test_a_token_never_goes_to_a_remote_gke_api_over_plain_http(plane: ControlPlane) -> None:
    credentials = IssuedCredentials(plane.issuer, FUNCTIONS)

    with pytest.raises(SettingsError, match="FARM_GKE_API_URL must be https"):
        gke_cluster.read_cluster(credentials, project=PROJECT, location=REGION, name=CLUSTER,
                                 api_url="http://container.example.com")
    assert plane.issuer.minted == []


def test_without_a_cluster_setting_the_kubeconfig_is_used_as_before(
        plane: ControlPlane, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kubernetes import client
    from kubernetes.config import kube_config

    plane.kube.static_tokens["sa-token"] = f"system:serviceaccount:{NAMESPACE}:farm-orchestrator"
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "farm",
        "clusters": [{"name": "farm", "cluster": {
            "server": f"https://{plane.kube.endpoint}",
            "certificate-authority-data": base64.b64encode(plane.ca.cert_pem.encode()).decode()}}],
        "users": [{"name": "orchestrator", "user": {"token": "sa-token"}}],
        "contexts": [{"name": "farm", "context": {"cluster": "farm", "user": "orchestrator"}}],
    }))
    # The client reads $KUBECONFIG once, at import, into this constant: point it at the file.
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)  # not in a pod: in-cluster config fails
    orchestrator = GkeOrchestrator(Settings(backend="gcp", gcp_project=PROJECT, gcp_region=REGION))
    try:
        orchestrator.start("agent-1", "sess-1", SPEC)
        assert orchestrator.status("agent-1").session_id == "sess-1"
    finally:
        client.Configuration.set_default(None)  # the loader set a process-wide default

    assert plane.gke.requests == []
    assert {user for _, _, user in plane.kube.requests} == {f"system:serviceaccount:{NAMESPACE}:farm-orchestrator"}
