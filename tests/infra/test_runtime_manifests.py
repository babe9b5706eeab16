"""Runtime host manifests and the static ones: rendered exactly as GkeOrchestrator applies them.

Nothing here talks to a cluster: the templates are rendered and checked against the Kubernetes
schemas (kubernetes-validate --strict) and against the names the runtime code reads. The
agent's own pod and the channel between them: tests/infra/test_runtime_session_gke.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.adapters.gcp.gke_manifests import (
    AGENT_SERVICE_ACCOUNT,
    ALPACA_SECRET,
    CHANNEL_PORT,
    K8S_DIR,
    SERVICE_ACCOUNT,
    TOKEN_ENV,
    TOKEN_FILE,
    render_sandbox,
    render_statefulset,
    sandbox_name,
    token_secret_name,
    workload_name,
)
from shared.ports.orchestrator import RuntimeSpec
from shared.settings import Settings
from shared.venues.alpaca.config import ENV_NAMES, RUNTIME_ENV_NAMES

kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")
K8S_VERSION = "1.30.0"
SETTINGS = Settings(backend="gcp", gcp_project="farm-prod", gcp_region="europe-west1")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def statefulset() -> dict[str, Any]:
    return render_statefulset("Agent_42abc", "sess-1", RuntimeSpec(cpu=0.5, memory_mb=512), settings=SETTINGS)


def container(statefulset: dict[str, Any]) -> dict[str, Any]:
    return statefulset["spec"]["template"]["spec"]["containers"][0]


def static(name: str, kind: str, metadata_name: str) -> dict[str, Any]:
    [found] = [d for d in yaml.safe_load_all((K8S_DIR / name).read_text())
               if d and d["kind"] == kind and d["metadata"]["name"] == metadata_name]
    return found


def test_the_rendered_statefulset_passes_strict_schema_validation(statefulset: dict[str, Any]) -> None:
    kubernetes_validate.validate(statefulset, K8S_VERSION, strict=True)


@pytest.mark.parametrize("name", ["networkpolicy.yaml", "rbac.yaml", "secret.example.yaml", "serviceaccount.yaml"])
def test_every_static_manifest_passes_strict_schema_validation(name: str) -> None:
    for document in yaml.safe_load_all((K8S_DIR / name).read_text()):
        kubernetes_validate.validate(document, K8S_VERSION, strict=True)


def test_the_host_is_one_replica_without_a_token_as_non_root_on_a_read_only_root(statefulset: dict[str, Any]) -> None:
    pod = statefulset["spec"]["template"]["spec"]
    assert statefulset["spec"]["replicas"] == 1
    assert pod["automountServiceAccountToken"] is False and pod["serviceAccountName"] == SERVICE_ACCOUNT
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container(statefulset)["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False and security["capabilities"]["drop"] == ["ALL"]


def test_the_host_runs_no_agent_code_and_never_lands_on_the_agents_sandbox_pool(statefulset: dict[str, Any]) -> None:
    pod = statefulset["spec"]["template"]["spec"]
    assert "runtimeClassName" not in pod and "tolerations" not in pod and "nodeSelector" not in pod
    main = container(statefulset)
    assert "command" not in main  # the image's entry point: python -m runtime
    assert "agent_main" not in yaml.safe_dump(statefulset)


def test_the_host_listens_for_its_agent_and_reads_the_sessions_token_from_a_file(statefulset: dict[str, Any]) -> None:
    main = container(statefulset)
    args = main["args"]
    assert args[args.index("--agent-port") + 1] == str(CHANNEL_PORT)
    assert args[args.index("--agent-token-file") + 1] == TOKEN_FILE
    assert {"name": "channel", "containerPort": CHANNEL_PORT} in main["ports"]
    [mount] = [m for m in main["volumeMounts"] if m["name"] == "channel-token"]
    assert mount == {"name": "channel-token", "mountPath": str(Path(TOKEN_FILE).parent), "readOnly": True}
    [volume] = [v for v in statefulset["spec"]["template"]["spec"]["volumes"] if v["name"] == "channel-token"]
    assert volume["secret"]["secretName"] == token_secret_name("Agent_42abc", "sess-1")
    assert volume["secret"]["items"] == [{"key": TOKEN_ENV, "path": Path(TOKEN_FILE).name}]
    assert volume["secret"]["defaultMode"] == 0o440
    assert not any(e["name"] == TOKEN_ENV for e in main["env"])  # a FARM_* env would be an unknown setting


def test_resources_follow_the_runtime_spec(statefulset: dict[str, Any]) -> None:
    resources = container(statefulset)["resources"]
    assert resources["limits"] == {"cpu": "500m", "memory": "512Mi"}
    assert resources["requests"] == {"cpu": "250m", "memory": "256Mi"}


def test_secret_env_names_and_keys_are_exactly_what_the_runtime_reads(statefulset: dict[str, Any]) -> None:
    from_secret = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container(statefulset)["env"] if "valueFrom" in e}
    assert set(from_secret) == set(RUNTIME_ENV_NAMES)  # Broker API keys: the session's own account
    assert not set(from_secret) & set(ENV_NAMES)  # never the Trading API keys of the shared paper account
    assert all(ref["key"] == name for name, ref in from_secret.items())
    example = yaml.safe_load((K8S_DIR / "secret.example.yaml").read_text())
    assert set(example["stringData"]) == set(RUNTIME_ENV_NAMES)
    assert {ref["name"] for ref in from_secret.values()} == {example["metadata"]["name"]} == {ALPACA_SECRET}


def test_the_alpaca_secret_is_named_only_by_host_manifests() -> None:
    for path in K8S_DIR.glob("*.yaml"):
        text = path.read_text()
        named = ALPACA_SECRET in text or any(name in text for name in RUNTIME_ENV_NAMES)
        assert named == (path.name in {"statefulset.yaml", "secret.example.yaml"}), path.name


def test_plain_env_holds_only_known_settings_and_no_secret_values(statefulset: dict[str, Any]) -> None:
    plain = {e["name"]: e["value"] for e in container(statefulset)["env"] if "value" in e}
    Settings.from_env(plain)  # unknown FARM_* keys would raise
    assert not any("KEY" in name or "SECRET" in name for name in plain)


def test_the_hosts_network_policy_allows_only_dns_and_https_egress_and_no_ingress(statefulset: dict[str, Any]) -> None:
    policy = static("networkpolicy.yaml", "NetworkPolicy", "farm-runtime-egress")
    assert policy["spec"]["ingress"] == []  # its agent's channel: the session's own policy (channel.yaml)
    ports = {(p["protocol"], p["port"]) for rule in policy["spec"]["egress"] for p in rule["ports"]}
    assert ports == {("UDP", 53), ("TCP", 53), ("TCP", 443)}
    selector = policy["spec"]["podSelector"]["matchLabels"]
    assert selector.items() <= statefulset["spec"]["template"]["metadata"]["labels"].items()
    agent = render_sandbox("Agent_42abc", "sess-1", RuntimeSpec(), channel_ip="10.96.0.11", settings=SETTINGS)
    assert not selector.items() <= agent["spec"]["template"]["metadata"]["labels"].items()


def test_every_agent_pod_is_denied_all_traffic_unless_its_session_allows_its_channel() -> None:
    policy = static("networkpolicy.yaml", "NetworkPolicy", "farm-agent-isolation")
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert policy["spec"]["ingress"] == [] and policy["spec"]["egress"] == []
    agent = render_sandbox("a", "s", RuntimeSpec(), channel_ip="10.96.0.11", settings=SETTINGS)
    host = render_statefulset("a", "s", RuntimeSpec(), settings=SETTINGS)
    selector = policy["spec"]["podSelector"]["matchLabels"].items()
    assert selector <= agent["spec"]["template"]["metadata"]["labels"].items()
    assert not selector <= host["spec"]["template"]["metadata"]["labels"].items()


def test_the_orchestrator_role_manages_sessions_but_never_reads_a_secret() -> None:
    role = static("rbac.yaml", "Role", "farm-orchestrator")
    granted = {(group, resource): set(rule["verbs"]) for rule in role["rules"]
               for group in rule["apiGroups"] for resource in rule["resources"]}
    assert granted == {
        ("apps", "statefulsets"): {"get", "list", "watch", "create", "patch", "update", "delete"},
        ("apps", "statefulsets/scale"): {"get", "list", "watch", "create", "patch", "update", "delete"},
        ("", "pods"): {"get", "list", "watch"},
        ("", "services"): {"create", "patch"},
        ("networking.k8s.io", "networkpolicies"): {"create", "patch"},
        ("", "secrets"): {"create"},  # get, list, watch, patch and delete can all answer with a Secret's data
    }


def test_workload_names_are_dns_safe_and_bad_ids_are_refused() -> None:
    assert workload_name("Agent_42abc") == "agent-agent-42abc"
    assert len(workload_name("x" * 200)) <= 52
    with pytest.raises(ValueError, match="no usable"):
        workload_name("___")


def test_no_agent_id_names_its_sandbox_like_another_agents_host() -> None:
    assert sandbox_name("x") == "sandbox-x" and sandbox_name("Agent_42abc") == "sandbox-agent-42abc"
    for agent_id in ("x", "x-sandbox", "sandbox-x", "agent-x"):
        assert not sandbox_name(agent_id).startswith("agent-")  # every host's name does
    assert token_secret_name("a", "s1") != token_secret_name("a", "s2")


def test_extra_env_is_refused_so_no_secret_can_slip_into_the_manifest() -> None:
    with pytest.raises(ValueError, match="no extra env"):
        render_statefulset("a", "s", RuntimeSpec(env={"APCA_API_SECRET_KEY": "x"}), settings=SETTINGS)
    with pytest.raises(ValueError, match="no extra env"):
        render_sandbox("a", "s", RuntimeSpec(env={"APCA_API_SECRET_KEY": "x"}), channel_ip="10.0.0.1",
                       settings=SETTINGS)


def test_the_image_runs_the_host_as_the_manifests_non_root_user_and_the_agent_as_another(
        statefulset: dict[str, Any]) -> None:
    dockerfile = (ROOT / "runtime" / "Dockerfile").read_text()
    uid = statefulset["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
    assert f"USER {uid}:{uid}" in dockerfile
    assert 'ENTRYPOINT ["python", "-m", "runtime"]' in dockerfile
    assert "APCA" not in dockerfile.replace("# No secrets", "")
    agent = render_sandbox("a", "s", RuntimeSpec(), channel_ip="10.0.0.1", settings=SETTINGS)
    assert agent["spec"]["template"]["spec"]["securityContext"]["runAsUser"] not in (0, uid)
    assert agent["spec"]["template"]["spec"]["serviceAccountName"] == AGENT_SERVICE_ACCOUNT
