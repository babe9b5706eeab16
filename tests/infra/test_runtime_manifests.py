"""Runtime manifests: rendered exactly as GkeOrchestrator applies them, validated strictly.

Nothing here talks to a cluster: the template is rendered and checked against the Kubernetes
schemas (kubernetes-validate --strict) and against the names the runtime code reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.adapters.gcp.gke_orchestrator import K8S_DIR, render_statefulset, workload_name
from shared.alpaca.credentials import ENV_NAMES
from shared.ports.orchestrator import RuntimeSpec
from shared.settings import Settings

kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")
K8S_VERSION = "1.30.0"
SETTINGS = Settings(backend="gcp", gcp_project="farm-prod", gcp_region="europe-west1")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def statefulset() -> dict[str, Any]:
    return render_statefulset("Agent_42abc", "sess-1", RuntimeSpec(cpu=0.5, memory_mb=512), settings=SETTINGS)


def container(statefulset: dict[str, Any]) -> dict[str, Any]:
    return statefulset["spec"]["template"]["spec"]["containers"][0]


def test_the_rendered_statefulset_passes_strict_schema_validation(statefulset: dict[str, Any]) -> None:
    kubernetes_validate.validate(statefulset, K8S_VERSION, strict=True)


@pytest.mark.parametrize("name", ["networkpolicy.yaml", "rbac.yaml", "secret.example.yaml"])
def test_every_static_manifest_passes_strict_schema_validation(name: str) -> None:
    for document in yaml.safe_load_all((K8S_DIR / name).read_text()):
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)


def test_one_replica_runs_in_gvisor_without_a_token_as_non_root_on_a_read_only_root(statefulset: dict[str, Any]) -> None:
    pod = statefulset["spec"]["template"]["spec"]
    assert statefulset["spec"]["replicas"] == 1
    assert pod["runtimeClassName"] == "gvisor"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    security = container(statefulset)["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False and security["capabilities"]["drop"] == ["ALL"]


def test_resources_follow_the_runtime_spec(statefulset: dict[str, Any]) -> None:
    resources = container(statefulset)["resources"]
    assert resources["limits"] == {"cpu": "500m", "memory": "512Mi"}
    assert resources["requests"] == {"cpu": "250m", "memory": "256Mi"}


def test_secret_env_names_and_keys_are_exactly_what_the_runtime_reads(statefulset: dict[str, Any]) -> None:
    from_secret = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container(statefulset)["env"] if "valueFrom" in e}
    assert set(from_secret) == set(ENV_NAMES)
    assert all(ref["key"] == name for name, ref in from_secret.items())
    example = yaml.safe_load((K8S_DIR / "secret.example.yaml").read_text())
    assert set(example["stringData"]) == set(ENV_NAMES)
    assert {ref["name"] for ref in from_secret.values()} == {example["metadata"]["name"]}


def test_plain_env_holds_only_known_settings_and_no_secret_values(statefulset: dict[str, Any]) -> None:
    plain = {e["name"]: e["value"] for e in container(statefulset)["env"] if "value" in e}
    Settings.from_env(plain)  # unknown FARM_* keys would raise
    assert not any("KEY" in name or "SECRET" in name for name in plain)


def test_the_network_policy_allows_only_dns_and_https_egress() -> None:
    policy = yaml.safe_load((K8S_DIR / "networkpolicy.yaml").read_text())
    assert policy["spec"]["ingress"] == []
    ports = {(p["protocol"], p["port"]) for rule in policy["spec"]["egress"] for p in rule["ports"]}
    assert ports == {("UDP", 53), ("TCP", 53), ("TCP", 443)}
    selector = policy["spec"]["podSelector"]["matchLabels"]
    assert selector.items() <= render_statefulset("a", "s", RuntimeSpec(), settings=SETTINGS)["spec"]["template"]["metadata"]["labels"].items()


def test_the_orchestrator_role_is_limited_to_statefulsets_and_reading_pods() -> None:
    role = next(d for d in yaml.safe_load_all((K8S_DIR / "rbac.yaml").read_text()) if d["kind"] == "Role")
    resources = {r for rule in role["rules"] for r in rule["resources"]}
    assert resources == {"statefulsets", "statefulsets/scale", "pods"}
    pods = next(rule for rule in role["rules"] if "pods" in rule["resources"])
    assert set(pods["verbs"]) == {"get", "list", "watch"}


def test_workload_names_are_dns_safe_and_bad_ids_are_refused() -> None:
    assert workload_name("Agent_42abc") == "agent-agent-42abc"
    assert len(workload_name("x" * 200)) <= 52
    with pytest.raises(ValueError, match="no usable"):
        workload_name("___")


def test_extra_env_is_refused_so_no_secret_can_slip_into_the_manifest() -> None:
    with pytest.raises(ValueError, match="no extra env"):
        render_statefulset("a", "s", RuntimeSpec(env={"APCA_API_SECRET_KEY": "x"}), settings=SETTINGS)


def test_the_image_runs_the_runtime_as_the_manifests_non_root_user(statefulset: dict[str, Any]) -> None:
    dockerfile = (ROOT / "runtime" / "Dockerfile").read_text()
    uid = statefulset["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
    assert f"USER {uid}:{uid}" in dockerfile
    assert 'ENTRYPOINT ["python", "-m", "runtime"]' in dockerfile
    assert "APCA" not in dockerfile.replace("# No secrets", "")
