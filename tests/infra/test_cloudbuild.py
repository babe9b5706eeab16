"""cloudbuild.yaml: every image it builds is used, every function it deploys exists, secrets match."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from functions.registry import FUNCTIONS
from shared.venues.alpaca.config import ENV_NAMES, RUNTIME_ENV_NAMES
from tests.infra.terraform_model import ROOT

CONFIG = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())
IMAGE = re.compile(r"docker\.pkg\.dev/[^/\s]+/farm/([a-z0-9-]+)")


def steps(step_id: str) -> dict:
    (step,) = [s for s in CONFIG["steps"] if s["id"] == step_id]
    return step


def built_images() -> dict[str, str]:
    """Image name -> Dockerfile, for every `docker build` step."""
    out = {}
    for s in CONFIG["steps"]:
        args = s.get("args", [])
        if s["name"].endswith("/docker") and args and args[0] == "build":
            dockerfile = args[args.index("-f") + 1]
            names = {IMAGE.search(a).group(1) for a in args if IMAGE.search(a)}
            assert len(names) == 1, s["id"]
            out[names.pop()] = dockerfile
    return out


def referenced_images() -> set[str]:
    """Images the manifests, the job launcher and the orchestrator run."""
    sources = [*ROOT.glob("*/k8s/*.yaml"), *(ROOT / "shared" / "adapters" / "gcp").glob("*.py")]
    return {m.group(1) for p in sources for m in IMAGE.finditer(p.read_text())}


def test_every_built_image_is_one_something_runs_and_every_used_image_is_built() -> None:
    built = built_images()
    assert set(built) == referenced_images() == {"ingester", "runtime", "backtest-runner"}
    for dockerfile in built.values():
        assert (ROOT / dockerfile).is_file(), dockerfile


def test_every_built_image_is_pushed() -> None:
    pushed = {IMAGE.search(a).group(1) for s in CONFIG["steps"] for a in s.get("args", [])
              if s.get("args", [""])[0] == "push" and IMAGE.search(a)}
    assert pushed == set(built_images())


def test_functions_are_deployed_from_the_registry_so_each_one_exists() -> None:
    script = steps("deploy-functions")["args"][-1]
    assert "farm functions --deploy-commands" in script
    result = subprocess.run([sys.executable, "-m", "farm.cli", "functions", "--deploy-commands",
                             "--project", "p", "--region", "r"], capture_output=True, text=True,
                            cwd=ROOT, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    deployed = [line.split()[3] for line in result.stdout.splitlines() if line.startswith("gcloud functions deploy")]
    assert sorted(deployed) == sorted(s.name for s in FUNCTIONS)
    assert "--set-env-vars=" in result.stdout  # rewritten to --update-env-vars by the step


def test_tests_and_the_generated_infra_check_run_before_anything_is_deployed() -> None:
    assert "pytest" in steps("test")["args"][-1]
    assert "farm infra check" in steps("infra-check")["args"][-1]
    for s in CONFIG["steps"]:
        if s["id"] not in ("test", "infra-check"):
            assert s.get("waitFor"), f"{s['id']} must wait for the checks"


def test_kubernetes_secrets_carry_exactly_the_env_names_the_code_reads() -> None:
    envs = [s["env"] for s in CONFIG["availableSecrets"]["secretManager"]]
    assert envs == [*ENV_NAMES, *RUNTIME_ENV_NAMES]
    script = steps("kubernetes")["args"][-1]
    for secret in ("alpaca-credentials", "farm-alpaca"):  # ingester's and runtimes' Secrets
        assert f"secret generic {secret}" in script
    from shared.adapters.gcp.gke_orchestrator import ALPACA_SECRET

    assert f"secret generic {ALPACA_SECRET}" in script
    assert "alpaca-credentials" in (ROOT / "ingester" / "k8s" / "ingester.yaml").read_text()
    for name in ENV_NAMES:  # the ingester's Secret only: runtimes trade through the Broker API
        assert script.count(f"--from-literal={name}=") == 1
    for name in RUNTIME_ENV_NAMES:  # the runtimes' Secret
        assert script.count(f"--from-literal={name}=") == 1


def test_every_manifest_folder_is_applied() -> None:
    script = steps("kubernetes")["args"][-1]
    for path in ROOT.glob("*/k8s/*.yaml"):
        rel = str(path.relative_to(ROOT))
        templated = "$name" in path.read_text()  # rendered per session by the orchestrator
        example = "example" in path.name
        assert templated or example or rel in script, f"{rel} is never applied"


def test_pubsub_triggered_functions_get_their_dead_letter_topic() -> None:
    script = steps("dead-letter-triggers")["args"][-1]
    assert "--dead-letter-topic=" in script and "--max-delivery-attempts=5" in script
    assert Path(ROOT / "jobs" / "cloudbuild.backtest.yaml").is_file()
