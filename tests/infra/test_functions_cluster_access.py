"""How the Cloud Functions reach the GKE cluster: IAM only to read it, RBAC for what they do in it.

The functions' Google account may read the cluster (roles/container.clusterViewer, terraform)
and is bound in-cluster to the farm-orchestrator Role (runtime/k8s/rbac.yaml, PROJECT_ID
substituted by Cloud Build). Terraform and `farm functions --deploy-commands` give every
function FARM_GKE_CLUSTER naming the cluster terraform creates. The behaviour itself is tested
against a fake control plane in tests/unit/test_gke_cluster_access.py.
"""

from __future__ import annotations

import subprocess
import sys

import yaml

from farm.commands.functions import GKE_CLUSTER
from shared.adapters.gcp.gke_orchestrator import K8S_DIR, NAMESPACE
from shared.settings import Settings
from tests.infra.terraform_model import ROOT, model, resources

CLOUDBUILD = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())


def rbac() -> list[dict]:
    return [d for d in yaml.safe_load_all((K8S_DIR / "rbac.yaml").read_text()) if d]


def test_the_functions_account_may_only_read_the_cluster_through_iam() -> None:
    roles = model()["locals"]["project_roles"]["functions"]
    container = [r for r in roles if r.startswith("roles/container.")]
    assert container == ["roles/container.clusterViewer"]


def test_rbac_binds_the_functions_google_account_to_the_orchestrator_role_in_the_agents_namespace() -> None:
    binding = next(d for d in rbac() if d["kind"] == "RoleBinding")
    assert binding["metadata"]["namespace"] == NAMESPACE
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "farm-orchestrator"}
    users = [s for s in binding["subjects"] if s["kind"] == "User"]
    # terraform/iam.tf names each account `farm-<key>`; the functions run as the `functions` one.
    assert resources("google_service_account")["workload"]["account_id"] == "farm-${each.key}"
    assert "functions" in model()["locals"]["accounts"]
    assert users == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                      "name": "farm-functions@PROJECT_ID.iam.gserviceaccount.com"}]
    role = next(d for d in rbac() if d["kind"] == "Role")
    assert role["metadata"]["namespace"] == NAMESPACE and not any(d["kind"] == "ClusterRoleBinding" for d in rbac())


def test_cloud_build_applies_rbac_with_the_project_substituted() -> None:
    script = next(s for s in CLOUDBUILD["steps"] if s["id"] == "kubernetes")["args"][-1]
    assert 'sed -e "s|PROJECT_ID|$PROJECT_ID|g" runtime/k8s/rbac.yaml | kubectl apply -f -' in script
    assert "-f runtime/k8s/rbac.yaml" not in script  # never applied with the placeholder


def test_terraform_gives_every_function_the_cluster_it_creates_as_a_known_setting() -> None:
    env = model()["locals"]["function_env"]
    assert env["FARM_GKE_CLUSTER"] == "${google_container_cluster.farm.name}"
    assert resources("google_container_cluster")["farm"]["location"] == "${var.region}"  # FARM_GKE_LOCATION default
    assert env["FARM_GCP_REGION"] == "${var.region}"
    assert env["FARM_GKE_ENDPOINT"] == "private"  # through the connector, which gke.tf authorises
    authorised = resources("google_container_cluster")["farm"]["master_authorized_networks_config"][0]["cidr_blocks"]
    assert {"display_name": "functions-connector",
            "cidr_block": "${google_vpc_access_connector.functions.ip_cidr_range}"} in authorised
    concrete = {name: "x" for name in env} | {"FARM_BACKEND": "gcp", "FARM_CORS_ORIGINS": "https://x",
                                               "FARM_GKE_ENDPOINT": "private"}
    assert Settings.from_env(concrete).gke_cluster == "x"  # every name is a setting


def test_deploy_commands_set_the_same_cluster_cloud_build_and_terraform_use() -> None:
    assert resources("google_container_cluster")["farm"]["name"] == GKE_CLUSTER
    assert CLOUDBUILD["substitutions"]["_CLUSTER"] == GKE_CLUSTER
    script = next(s for s in CLOUDBUILD["steps"] if s["id"] == "deploy-functions")["args"][-1]
    assert '--gke-cluster "${_CLUSTER}"' in script
    result = subprocess.run([sys.executable, "-m", "farm.cli", "functions", "--deploy-commands", "--project", "p",
                             "--region", "r", "--gke-cluster", "c"], capture_output=True, text=True, cwd=ROOT,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines and all("--set-env-vars=FARM_BACKEND=gcp,FARM_GCP_PROJECT=p,FARM_GCP_REGION=r,FARM_GKE_CLUSTER=c,"
                         "FARM_GKE_ENDPOINT=private "
                         in line + " " for line in lines)
