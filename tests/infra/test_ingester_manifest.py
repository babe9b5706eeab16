"""The ingester's Kubernetes manifest: schema-valid, one replica, locked down, keys that match the code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shared.settings import Settings, env_name
from shared.venues.alpaca.config import ENV_NAMES

MANIFEST = Path(__file__).resolve().parents[2] / "ingester" / "k8s" / "ingester.yaml"


def documents() -> dict[str, dict]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all(MANIFEST.read_text()) if doc}


def container() -> dict:
    return documents()["StatefulSet"]["spec"]["template"]["spec"]["containers"][0]


def test_manifest_passes_kubernetes_validate_strict() -> None:
    tool = shutil.which("kubernetes-validate") or str(Path(sys.executable).with_name("kubernetes-validate"))
    if not Path(tool).exists():
        pytest.skip("kubernetes-validate is not installed (pip install -r requirements-dev.txt)")
    result = subprocess.run([tool, "--strict", "--kubernetes-version", "1.30", str(MANIFEST)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_exactly_one_replica_because_alpaca_allows_one_connection() -> None:
    workload = documents()["StatefulSet"]
    assert workload["spec"]["replicas"] == 1
    assert "Deployment" not in documents()


def test_secret_keys_are_the_exact_env_names_the_code_reads() -> None:
    from_secret = {e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in container()["env"] if "valueFrom" in e}
    assert from_secret == {name: name for name in ENV_NAMES}


def test_every_farm_setting_in_the_manifest_is_one_the_code_knows() -> None:
    farm_vars = {e["name"]: e.get("value") for e in container()["env"] if e["name"].startswith("FARM_")}
    Settings.from_env({k: v for k, v in farm_vars.items() if v is not None})  # unknown keys would raise
    assert env_name("ingester_port") in farm_vars


def test_pod_runs_non_root_read_only_with_probes_and_workload_identity() -> None:
    pod = documents()["StatefulSet"]["spec"]["template"]["spec"]
    c = container()
    assert pod["securityContext"]["runAsNonRoot"] and c["securityContext"]["readOnlyRootFilesystem"]
    assert c["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert {c["livenessProbe"]["httpGet"]["path"], c["readinessProbe"]["httpGet"]["path"]} == {"/healthz", "/readyz"}
    assert c["resources"]["limits"] and c["resources"]["requests"]
    account = documents()["ServiceAccount"]["metadata"]["annotations"]
    assert "iam.gke.io/gcp-service-account" in account
    assert pod["serviceAccountName"] == documents()["ServiceAccount"]["metadata"]["name"]
