"""A paper-trading session on GKE: the agent's own pod and its channel to the host (SPEC §6b).

Rendered checks of runtime/k8s/sandbox-statefulset.yaml and channel.yaml, then GkeOrchestrator
applying a whole session to the fake Kubernetes API server (tests/fakes/kube_apiserver.py: real
TLS, the real kubernetes client, RBAC from the repo's rbac.yaml) as the functions' account.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.adapters.gcp.gke_manifests import (
    AGENT_SERVICE_ACCOUNT,
    CHANNEL_PORT,
    K8S_DIR,
    NAMESPACE,
    TOKEN_ENV,
    render_channel,
    render_sandbox,
    render_statefulset,
    sandbox_name,
    token_secret_name,
    workload_name,
)
from shared.adapters.gcp.gke_orchestrator import GkeOrchestrator
from shared.ports.orchestrator import RuntimeSpec
from shared.settings import Settings
from tests.fakes.certificates import CertificateAuthority
from tests.fakes.gke_api import FakeGkeApi
from tests.fakes.google_tokens import IssuedCredentials, TokenIssuer
from tests.fakes.kube_apiserver import FakeKubeApiServer, Rbac

PROJECT, REGION, CLUSTER = "farm-prod", "europe-west1", "farm"
FUNCTIONS = f"farm-functions@{PROJECT}.iam.gserviceaccount.com"
SETTINGS = Settings(backend="gcp", gcp_project=PROJECT, gcp_region=REGION)
SPEC = RuntimeSpec(cpu=0.5, memory_mb=512)
TOKEN = "t" * 43
HARMLESS_ENV = {"HOME": "/tmp", "MPLCONFIGDIR": "/tmp", "PYTHONDONTWRITEBYTECODE": "1"}


@pytest.fixture
def agent() -> dict[str, Any]:
    return render_sandbox("Agent_42abc", "sess-1", SPEC, channel_ip="10.96.0.11", settings=SETTINGS)


def pod_of(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def labels_of(workload: dict[str, Any]) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"]["labels"]


def test_every_rendered_session_object_passes_strict_schema_validation(agent: dict[str, Any]) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")
    for document in [agent, *render_channel("Agent_42abc", "sess-1", token=TOKEN)]:
        kubernetes_validate.validate(document, "1.30.0", strict=True)


def test_the_agent_runs_in_gvisor_with_no_token_no_identity_non_root_read_only(agent: dict[str, Any]) -> None:
    pod = pod_of(agent)
    assert agent["spec"]["replicas"] == 1
    assert pod["runtimeClassName"] == "gvisor" and pod["nodeSelector"] == {"sandbox.gke.io/runtime": "gvisor"}
    assert pod["automountServiceAccountToken"] is False and pod["serviceAccountName"] == AGENT_SERVICE_ACCOUNT
    [account] = [d for d in yaml.safe_load_all((K8S_DIR / "serviceaccount.yaml").read_text())
                 if d["metadata"]["name"] == AGENT_SERVICE_ACCOUNT]
    assert "annotations" not in account["metadata"]  # no Workload Identity
    assert not pod["hostNetwork"] and not pod["hostPID"] and not pod["hostIPC"]
    assert pod["enableServiceLinks"] is False  # no other session's Service in its environment
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                                      "fsGroup": 65532, "seccompProfile": {"type": "RuntimeDefault"}}
    [main] = pod["containers"]
    assert "initContainers" not in pod and "ephemeralContainers" not in pod
    assert main["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                       "privileged": False, "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}
    assert main["resources"]["limits"] == {"cpu": "500m", "memory": "512Mi"}
    assert "ports" not in main  # it serves nothing


def test_the_agent_gets_no_credential_only_the_sessions_channel_token(agent: dict[str, Any]) -> None:
    [main] = pod_of(agent)["containers"]
    assert "envFrom" not in main
    plain = {e["name"]: e["value"] for e in main["env"] if "value" in e}
    secret_refs = [e for e in main["env"] if "valueFrom" in e]
    assert plain == HARMLESS_ENV
    assert secret_refs == [{"name": TOKEN_ENV, "valueFrom": {"secretKeyRef": {
        "name": token_secret_name("Agent_42abc", "sess-1"), "key": TOKEN_ENV}}}]
    volumes = pod_of(agent)["volumes"]
    assert all(set(v) == {"name", "emptyDir"} and v["emptyDir"].get("sizeLimit") for v in volumes)
    assert {m["mountPath"] for m in main["volumeMounts"]} == {"/tmp", "/bundle"}


def test_the_agent_runs_the_harness_against_its_hosts_ip_with_no_resolver(agent: dict[str, Any]) -> None:
    [main] = pod_of(agent)["containers"]
    assert main["command"] == ["python", "-m", "shared.harness.agent_main"]
    assert main["args"] == ["--connect", f"10.96.0.11:{CHANNEL_PORT}", "--bundle", "/bundle"]
    assert pod_of(agent)["dnsPolicy"] == "None" and pod_of(agent)["dnsConfig"] == {"nameservers": ["127.0.0.1"]}
    with pytest.raises(ValueError, match="must be an IP"):
        render_sandbox("a", "s", SPEC, channel_ip="agent-a-channel.farm-agents.svc", settings=SETTINGS)


def test_the_channel_secret_holds_the_token_and_nothing_else() -> None:
    secret = render_channel("a", "s", token=TOKEN)[0]
    assert secret["kind"] == "Secret" and secret["metadata"]["name"] == token_secret_name("a", "s")
    assert secret["stringData"] == {TOKEN_ENV: TOKEN} and "data" not in secret
    with pytest.raises(ValueError, match="long URL-safe"):
        render_channel("a", "s", token="short")


def test_the_service_and_policies_pair_each_agent_with_its_own_host_on_the_channel_port_only(
        agent: dict[str, Any]) -> None:
    host = render_statefulset("Agent_42abc", "sess-1", SPEC, settings=SETTINGS)
    other_host = render_statefulset("other", "sess-9", SPEC, settings=SETTINGS)
    other_agent = render_sandbox("other", "sess-9", SPEC, channel_ip="10.96.0.12", settings=SETTINGS)
    _, service, egress, ingress = render_channel("Agent_42abc", "sess-1", token=TOKEN)

    def selects(selector: dict[str, str], workload: dict[str, Any]) -> bool:
        return selector.items() <= labels_of(workload).items()

    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"name": "channel", "protocol": "TCP", "port": CHANNEL_PORT,
                                         "targetPort": "channel"}]
    assert [selects(service["spec"]["selector"], w) for w in (host, agent, other_host)] == [True, False, False]
    only_the_port = [{"protocol": "TCP", "port": CHANNEL_PORT}]

    assert egress["spec"]["policyTypes"] == ["Egress"]
    assert [selects(egress["spec"]["podSelector"]["matchLabels"], w) for w in (agent, host, other_agent)] == [
        True, False, False]
    [rule] = egress["spec"]["egress"]
    assert rule["ports"] == only_the_port
    [peer] = rule["to"]
    assert list(peer) == ["podSelector"]  # no ipBlock (no metadata server, no internet), no namespace
    assert [selects(peer["podSelector"]["matchLabels"], w) for w in (host, agent, other_host)] == [True, False, False]

    assert ingress["spec"]["policyTypes"] == ["Ingress"]
    assert [selects(ingress["spec"]["podSelector"]["matchLabels"], w) for w in (host, agent, other_host)] == [
        True, False, False]
    [rule] = ingress["spec"]["ingress"]
    assert rule["ports"] == only_the_port
    [peer] = rule["from"]
    assert list(peer) == ["podSelector"]
    assert [selects(peer["podSelector"]["matchLabels"], w) for w in (agent, host, other_agent)] == [True, False, False]


# --- applied through the Kubernetes API --------------------------------------------------------


@dataclass
class Cluster:
    kube: FakeKubeApiServer
    orchestrator: GkeOrchestrator

    def get(self, resource: str, name: str) -> dict[str, Any]:
        return self.kube.stores[resource][(NAMESPACE, name)]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    issuer, ca = TokenIssuer(), CertificateAuthority()
    rbac = Rbac([d for d in yaml.safe_load_all((K8S_DIR / "rbac.yaml").read_text().replace("PROJECT_ID", PROJECT))
                 if d])
    kube = FakeKubeApiServer(ca.issue_server("127.0.0.1"), tmp_path, issuer=issuer, rbac=rbac, namespaces=(NAMESPACE,))
    gke = FakeGkeApi(issuer, viewers={FUNCTIONS})
    gke.add_cluster(PROJECT, REGION, CLUSTER, endpoint=kube.endpoint, ca_pem=ca.cert_pem)
    settings = Settings(backend="gcp", gcp_project=PROJECT, gcp_region=REGION, gke_cluster=CLUSTER,
                        gke_api_url=gke.url)
    try:
        yield Cluster(kube, GkeOrchestrator(settings, credentials=IssuedCredentials(issuer, FUNCTIONS)))
    finally:
        gke.close()
        kube.close()


def token_in(secret: dict[str, Any]) -> str:
    assert set(secret["data"]) == {TOKEN_ENV}
    return base64.b64decode(secret["data"][TOKEN_ENV]).decode()


def test_a_session_is_a_host_and_an_agent_owned_by_it_joined_by_the_services_ip(cluster: Cluster) -> None:
    cluster.orchestrator.start("agent-1", "sess-1", SPEC)

    name = workload_name("agent-1")
    host, agent = cluster.get("statefulsets", name), cluster.get("statefulsets", sandbox_name("agent-1"))
    service = cluster.get("services", f"{name}-channel")
    secret = cluster.get("secrets", token_secret_name("agent-1", "sess-1"))
    policies = [cluster.get("networkpolicies", f"{name}-{p}") for p in ("agent-egress", "host-ingress")]
    assert len(token_in(secret)) >= 43  # 32 random bytes
    [main] = pod_of(agent)["containers"]
    assert main["args"][:2] == ["--connect", f"{service['spec']['clusterIP']}:{CHANNEL_PORT}"]
    # Both pods read the same Secret; only the host is the farm-runtime identity.
    host_volume = next(v for v in pod_of(host)["volumes"] if "secret" in v)
    assert host_volume["secret"]["secretName"] == secret["metadata"]["name"]
    assert main["env"][-1]["valueFrom"]["secretKeyRef"]["name"] == secret["metadata"]["name"]
    owner = [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": name, "uid": host["metadata"]["uid"]}]
    for owned in (agent, service, secret, *policies):
        assert owned["metadata"]["ownerReferences"] == owner
    assert "ownerReferences" not in host["metadata"]


def test_stopping_deletes_the_host_and_with_it_everything_of_the_session(cluster: Cluster) -> None:
    cluster.orchestrator.start("agent-1", "sess-1", SPEC)
    cluster.orchestrator.start("agent-2", "sess-2", SPEC)

    cluster.orchestrator.stop("agent-1")

    left = {resource: sorted(name for _, name in store) for resource, store in cluster.kube.stores.items()}
    assert left == {"statefulsets": [workload_name("agent-2"), sandbox_name("agent-2")],
                    "secrets": [token_secret_name("agent-2", "sess-2")],
                    "services": [f"{workload_name('agent-2')}-channel"],
                    "networkpolicies": [f"{workload_name('agent-2')}-agent-egress",
                                        f"{workload_name('agent-2')}-host-ingress"],
                    "pods": [f"{workload_name('agent-2')}-0", f"{sandbox_name('agent-2')}-0"]}
    assert cluster.orchestrator.list()[0].agent_id == "agent-2"  # the agents' StatefulSets are not runtimes


def test_restarting_a_session_keeps_its_token_and_a_new_session_gets_a_new_one(cluster: Cluster) -> None:
    cluster.orchestrator.start("agent-1", "sess-1", SPEC)
    first = token_in(cluster.get("secrets", token_secret_name("agent-1", "sess-1")))
    agent_before = pod_of(cluster.get("statefulsets", sandbox_name("agent-1")))

    cluster.orchestrator.start("agent-1", "sess-1", SPEC)  # e.g. resumed after a deploy
    assert token_in(cluster.get("secrets", token_secret_name("agent-1", "sess-1"))) == first
    assert pod_of(cluster.get("statefulsets", sandbox_name("agent-1"))) == agent_before  # nothing rolls

    cluster.orchestrator.start("agent-1", "sess-2", SPEC)
    second = token_in(cluster.get("secrets", token_secret_name("agent-1", "sess-2")))
    assert second != first
    for workload in (workload_name("agent-1"), sandbox_name("agent-1")):  # both pods roll onto the new token
        assert token_secret_name("agent-1", "sess-2") in yaml.safe_dump(cluster.get("statefulsets", workload))


def test_the_orchestrator_only_ever_creates_secrets_it_never_reads_one(cluster: Cluster) -> None:
    cluster.orchestrator.start("agent-1", "sess-1", SPEC)
    cluster.orchestrator.start("agent-1", "sess-1", SPEC)
    cluster.orchestrator.stop("agent-1")

    on_secrets = {verb for verb, path, _ in cluster.kube.requests if "/secrets" in path}
    assert on_secrets == {"create"}
    # RBAC (rbac.yaml) would refuse anything else: reading the Alpaca Secret is forbidden to it.
    path = f"/api/v1/namespaces/{NAMESPACE}/secrets/farm-alpaca"
    token = cluster.orchestrator._credentials.token
    for method in ("GET", "DELETE", "PATCH"):
        status, answer = cluster.kube.handle(method, path, f"Bearer {token}", "application/merge-patch+json", b"{}")
        assert status == 403 and 'cannot' in answer["message"] and '"secrets"' in answer["message"]
