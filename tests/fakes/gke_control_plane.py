"""A whole fake GKE control plane for a test: the GKE API, the Kubernetes API server, a token issuer.

`running_control_plane(workdir)` serves the GKE API (tests/fakes/gke_api.py) and the Kubernetes
API server (tests/fakes/kube_apiserver.py, real TLS, RBAC from the repo's runtime/k8s/rbac.yaml
as cloudbuild.yaml applies it), and gives a `GkeOrchestrator` that reaches them as the functions'
Google service account, exactly as a deployed function does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from shared.adapters.gcp.gke_manifests import K8S_DIR, NAMESPACE, workload_name
from shared.adapters.gcp.gke_orchestrator import GkeOrchestrator
from shared.settings import Settings
from tests.fakes.certificates import CertificateAuthority
from tests.fakes.gke_api import FakeGkeApi
from tests.fakes.google_tokens import IssuedCredentials, TokenIssuer
from tests.fakes.kube_apiserver import FakeKubeApiServer, Rbac

PROJECT, REGION, CLUSTER = "farm-prod", "europe-west1", "farm"
FUNCTIONS = f"farm-functions@{PROJECT}.iam.gserviceaccount.com"


def deployed_rbac() -> Rbac:
    """runtime/k8s/rbac.yaml as cloudbuild.yaml applies it (PROJECT_ID replaced)."""
    text = (K8S_DIR / "rbac.yaml").read_text().replace("PROJECT_ID", PROJECT)
    return Rbac([d for d in yaml.safe_load_all(text) if d])


@dataclass
class ControlPlane:
    """The fakes and the settings a function would run with."""

    issuer: TokenIssuer
    gke: FakeGkeApi
    kube: FakeKubeApiServer
    settings: Settings

    def orchestrator(self, account: str = FUNCTIONS) -> GkeOrchestrator:
        """A GkeOrchestrator acting as `account` (default: the functions' service account)."""
        return GkeOrchestrator(self.settings, credentials=IssuedCredentials(self.issuer, account))

    def runtime_pod(self, agent_id: str) -> str:
        """The name of the agent's runtime host pod (its StatefulSet's only replica)."""
        return f"{workload_name(agent_id)}-0"

    def crash(self, agent_id: str, times: int = 1, *, exit_code: int = 1, reason: str = "Error") -> None:
        """The agent's runtime container exits `times` times, each time restarted by the kubelet."""
        for _ in range(times):
            self.kube.crash(NAMESPACE, self.runtime_pod(agent_id), exit_code=exit_code, reason=reason)


@contextmanager
def running_control_plane(workdir: Path) -> Iterator[ControlPlane]:
    """Serve the fakes until the block ends."""
    issuer, ca = TokenIssuer(), CertificateAuthority()
    kube = FakeKubeApiServer(ca.issue_server("127.0.0.1"), workdir, issuer=issuer, rbac=deployed_rbac(),
                             namespaces=(NAMESPACE,))
    gke = FakeGkeApi(issuer, viewers={FUNCTIONS})
    try:
        gke.add_cluster(PROJECT, REGION, CLUSTER, endpoint=kube.endpoint, ca_pem=ca.cert_pem)
        settings = Settings(backend="gcp", gcp_project=PROJECT, gcp_region=REGION, gke_cluster=CLUSTER,
                            gke_api_url=gke.url)
        yield ControlPlane(issuer, gke, kube, settings)
    finally:
        gke.close()
        kube.close()
