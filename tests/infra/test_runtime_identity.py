"""Cloud identities in farm-agents: the hosts' farm-runtime KSA, bound by Workload Identity to
terraform's GSA, and the agents' farm-agent KSA, bound to nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from shared.adapters.gcp.gke_manifests import AGENT_SERVICE_ACCOUNT, render_sandbox
from shared.adapters.gcp.gke_orchestrator import (
    K8S_DIR,
    NAMESPACE,
    SERVICE_ACCOUNT,
    render_statefulset,
)
from shared.ports.orchestrator import RuntimeSpec
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = Settings(backend="gcp", gcp_project="farm-prod", gcp_region="europe-west1")


def service_account(name: str = SERVICE_ACCOUNT) -> dict:
    [found] = [d for d in yaml.safe_load_all((K8S_DIR / "serviceaccount.yaml").read_text())
               if d["metadata"]["name"] == name]
    return found


def test_the_service_accounts_pass_strict_schema_validation() -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")
    for name in (SERVICE_ACCOUNT, AGENT_SERVICE_ACCOUNT):
        kubernetes_validate.validate(service_account(name), "1.30.0", strict=True)


def test_the_service_account_maps_to_the_farm_runtime_google_account_without_a_token() -> None:
    account = service_account()
    assert account["kind"] == "ServiceAccount"
    assert (account["metadata"]["name"], account["metadata"]["namespace"]) == (SERVICE_ACCOUNT, NAMESPACE)
    assert account["metadata"]["annotations"]["iam.gke.io/gcp-service-account"] == (
        "farm-runtime@PROJECT_ID.iam.gserviceaccount.com")
    assert account["automountServiceAccountToken"] is False


def test_every_runtime_pod_runs_as_that_account_and_still_mounts_no_token() -> None:
    rendered = render_statefulset("a1", "s1", RuntimeSpec(cpu=0.5, memory_mb=512), settings=SETTINGS)
    pod = rendered["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == SERVICE_ACCOUNT
    assert pod["automountServiceAccountToken"] is False


def test_terraform_grants_workload_identity_on_the_runtime_account_to_that_ksa() -> None:
    workloads = json.loads((ROOT / "terraform" / "generated" / "workloads.json").read_text())
    binding = workloads[f"{NAMESPACE}/{SERVICE_ACCOUNT}"]
    assert binding["account_id"] == "farm-runtime"
    assert 'runtime   = "GKE: agent runtime hosts (trusted' in (ROOT / "terraform" / "iam.tf").read_text()


def test_the_agents_account_has_no_google_identity_no_token_and_no_role() -> None:
    account = service_account(AGENT_SERVICE_ACCOUNT)
    assert account["metadata"]["namespace"] == NAMESPACE
    assert not account["metadata"].get("annotations")  # no iam.gke.io/gcp-service-account
    assert account["automountServiceAccountToken"] is False
    workloads = json.loads((ROOT / "terraform" / "generated" / "workloads.json").read_text())
    assert f"{NAMESPACE}/{AGENT_SERVICE_ACCOUNT}" not in workloads
    for path in (ROOT / "terraform").glob("*.tf"):  # no binding names its Workload Identity principal
        text = path.read_text()
        assert f"{NAMESPACE}/{AGENT_SERVICE_ACCOUNT}]" not in text and f"sa/{AGENT_SERVICE_ACCOUNT}" not in text
    rbac = (K8S_DIR / "rbac.yaml").read_text()
    assert f"name: {AGENT_SERVICE_ACCOUNT}\n" not in rbac  # bound to no Role


def test_every_agent_pod_runs_as_that_account_without_a_token() -> None:
    rendered = render_sandbox("a1", "s1", RuntimeSpec(cpu=0.5, memory_mb=512), channel_ip="10.96.0.11",
                              settings=SETTINGS)
    pod = rendered["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == AGENT_SERVICE_ACCOUNT
    assert pod["automountServiceAccountToken"] is False


def test_the_deploy_applies_the_account_with_the_project_substituted() -> None:
    build = (ROOT / "cloudbuild.yaml").read_text()
    assert 'sed -e "s|PROJECT_ID|$PROJECT_ID|g" runtime/k8s/serviceaccount.yaml | kubectl apply -f -' in build
