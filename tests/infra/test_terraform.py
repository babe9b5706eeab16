"""Terraform, statically: what it provisions is exactly what the code's registries and schemas name."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from farm.deploy import generate as gen
from farm.deploy.firestore_indexes import derive
from functions.registry import FUNCTIONS, DocumentTrigger, HttpTrigger, TopicTrigger
from shared.schemas import topics
from shared.schemas.warehouse import DATASETS, TABLES, Column
from shared.venues.alpaca.config import ENV_NAMES
from tests.infra.terraform_model import ROOT, TERRAFORM, model, resources, text


def generated(name: str) -> dict:
    return json.loads((TERRAFORM / "generated" / name).read_text())


def test_generated_files_are_fresh_so_nothing_in_the_code_is_missing_from_terraform() -> None:
    assert gen.stale() == [], "run `farm infra generate` and commit terraform/generated/"


def test_generating_twice_writes_nothing_the_second_time(tmp_path: Path) -> None:
    writes: list[Path] = []
    gen.generate(write=lambda p, t: writes.append(p))  # dry run over the real tree
    assert writes == []


def test_every_generated_file_is_read_by_terraform() -> None:
    tf = text()
    for name in gen.documents():
        assert f'generated/{name}' in tf, f"{name} is generated but terraform never reads it"


def test_every_function_has_exactly_one_resource_with_its_entry_point_and_trigger() -> None:
    funcs = resources("google_cloudfunctions2_function")
    assert list(funcs) == ["function"], "one for_each resource covers every function"
    f = funcs["function"]
    assert f["for_each"] == "${local.functions}"
    assert "generated/functions.json" in model()["locals"]["functions"]
    assert f["build_config"][0]["entry_point"] == "${each.value.entry_point}"
    triggers = [d["event_trigger"]["for_each"] for d in f["dynamic"] if "event_trigger" in d]
    assert len(triggers) == 2
    assert any('"pubsub"' in t for t in triggers) and any('"firestore"' in t for t in triggers)
    docs = generated("functions.json")
    assert sorted(docs) == sorted(s.name for s in FUNCTIONS)
    for spec in FUNCTIONS:
        doc, t = docs[spec.name], spec.trigger
        assert doc["entry_point"] == spec.entry_point and doc["module"] == spec.module
        assert (doc["memory"], doc["cpu"], doc["timeout_s"]) == (spec.memory, spec.cpu, spec.timeout_s)
        assert (doc["min_instances"], doc["max_instances"]) == (spec.min_instances, spec.max_instances)
        if isinstance(t, HttpTrigger):
            assert doc["trigger"] == {"kind": "http", "path": t.path, "methods": list(t.methods)}
        elif isinstance(t, TopicTrigger):
            assert doc["trigger"]["kind"] == "pubsub" and doc["trigger"]["topic"] == t.topic
            assert t.topic in topics.TOPICS
        else:
            assert isinstance(t, DocumentTrigger)
            assert doc["trigger"]["event_type"] == f"google.cloud.firestore.document.v1.{t.event}"
            assert doc["trigger"]["document"] == f"{t.collection}/{{doc_id}}"


def test_main_py_exports_every_entry_point_terraform_names() -> None:
    main = (ROOT / "main.py").read_text()
    assert "FUNCTIONS" in main and "entry_point" in main  # re-exports from the same registry
    import main as deployed

    for spec in FUNCTIONS:
        assert callable(getattr(deployed, spec.entry_point))


def test_every_topic_and_its_dead_letter_topic_exist_and_nothing_else() -> None:
    doc = generated("topics.json")
    assert sorted(doc["topics"]) == sorted(topics.TOPICS)
    assert {v["dead_letter"] for v in doc["topics"].values()} == {topics.dead_letter(t) for t in topics.TOPICS}
    assert doc["max_delivery_attempts"] == topics.MAX_DELIVERY_ATTEMPTS == 5
    assert set(resources("google_pubsub_topic")) == {"topic", "dead_letter"}
    for r in resources("google_pubsub_topic").values():
        assert r["for_each"] == "${local.topics}"


def test_dead_letter_subscriptions_retry_and_the_pubsub_agent_can_dead_letter() -> None:
    subs = resources("google_pubsub_subscription")
    assert set(subs) == {"dead_letter"}
    assert subs["dead_letter"]["retry_policy"][0]["minimum_backoff"]
    publisher = resources("google_pubsub_topic_iam_member")["dead_letter_publisher"]
    assert publisher["role"] == "roles/pubsub.publisher" and "pubsub_agent" in publisher["member"]
    assert "gcp-sa-pubsub" in model()["locals"]["pubsub_agent"]
    assert resources("google_project_iam_member")["pubsub_agent_subscriber"]["role"] == "roles/pubsub.subscriber"


def test_every_topic_has_a_publisher_and_a_consumer() -> None:
    publishers = model()["locals"]["topic_publishers"]
    assert sorted(publishers) == sorted(topics.TOPICS)
    consumed = {s.trigger.topic for s in FUNCTIONS if isinstance(s.trigger, TopicTrigger)}
    runtime_reads = {t for t, who in publishers.items() if "ingester" in who}  # runtimes subscribe
    assert set(topics.TOPICS) == consumed | runtime_reads


def _columns(cols: tuple[Column, ...]) -> list[dict]:
    out = []
    for c in cols:
        d = {"name": c.name, "type": c.type, "mode": c.mode}
        if c.fields:
            d["fields"] = _columns(c.fields)
        out.append(d)
    return out


def test_every_table_has_exactly_the_columns_partitioning_and_clustering_of_shared_schema() -> None:
    doc = generated("tables.json")
    assert sorted(doc) == sorted(t.ref for t in TABLES)
    for t in TABLES:
        d = doc[t.ref]
        schema = [{k: v for k, v in c.items() if k != "description"} for c in d["schema"]]
        assert schema == _columns(t.columns), t.ref
        assert (d["partition_field"], d["clustering"]) == (t.partition_field, list(t.clustering))
    table = resources("google_bigquery_table")["table"]
    assert table["schema"] == "${jsonencode(each.value.schema)}"
    (partitioning,) = [d["time_partitioning"] for d in table["dynamic"] if "time_partitioning" in d]
    assert partitioning["content"][0]["field"] == "${time_partitioning.value.partition_field}"
    assert partitioning["content"][0]["type"] == "DAY"
    assert table["clustering"].startswith("${length(each.value.clustering)")
    assert resources("google_bigquery_dataset")["dataset"]["for_each"] == "${local.datasets}"
    assert set(DATASETS) == {t.dataset for t in TABLES}


def test_firestore_indexes_are_the_ones_the_service_queries_need() -> None:
    derived = {i.key for i in derive(ROOT)}
    assert set(generated("firestore_indexes.json")) == derived
    listing = [i for i in derive(ROOT) if i.collection == "agents"]
    assert any(i.fields[-1] == ("created_at", "DESCENDING") for i in listing)  # list_agents
    assert resources("google_firestore_index")["composite"]["for_each"] == "${local.firestore_indexes}"


def test_index_derivation_needs_a_composite_only_for_equality_plus_order(tmp_path: Path) -> None:
    pkg = tmp_path / "shared" / "services"
    pkg.mkdir(parents=True)
    (pkg / "q.py").write_text(
        "def by_owner(documents, uid):\n"
        "    where = [Filter('owner_uid', '==', uid)]\n"
        "    return documents.query(SESSIONS, where, order_by='updated_at', descending=True)\n"
        "def plain(documents, uid):\n"
        "    return documents.query(USERS, [Filter('owner_uid', '==', uid)])\n"
    )
    (index,) = derive(tmp_path, ["shared/services"])
    assert index.collection == "sessions"
    assert index.fields == (("owner_uid", "ASCENDING"), ("updated_at", "DESCENDING"))


def test_buckets_are_uniform_private_versioned_with_lifecycle_rules() -> None:
    buckets = resources("google_storage_bucket")
    assert set(buckets) == {"farm", "sources", "access_logs"}  # data, function source, their logs
    for b in buckets.values():
        assert b["uniform_bucket_level_access"] is True and b["public_access_prevention"] == "enforced"
        assert b["lifecycle_rule"]
    assert model()["locals"]["bucket"] == '${coalesce(var.bucket, "${var.project}-farm")}'
    prefixes = [p for r in buckets["farm"]["lifecycle_rule"] for p in r["condition"][0].get("matches_prefix", [])]
    code = "\n".join(p.read_text() for p in (ROOT / "shared").rglob("*.py"))
    for prefix in prefixes:
        assert f'"{prefix}' in code or f"f\"{prefix}" in code, f"no blob key starts with {prefix}"


def test_secrets_are_the_alpaca_keys_the_code_reads_and_nothing_else() -> None:
    doc = generated("secrets.json")
    assert doc["trading_keys"] == list(ENV_NAMES)
    defaults = model()["variable"]["alpaca_secret_ids"]["default"]
    assert set(defaults) == set(doc["trading_keys"]) | set(doc["broker_keys"])
    from shared.venues.alpaca import config as alpaca_accounts

    assert doc["broker_keys"] == [alpaca_accounts.BROKER_KEY_ID_ENV, alpaca_accounts.BROKER_SECRET_KEY_ENV]
    funcs = generated("functions.json")
    assert any(f["secret_envs"] for f in funcs.values())
    assert all(set(f["secret_envs"]) <= set(doc["broker_keys"]) for f in funcs.values())
    assert set(resources("google_secret_manager_secret")) == {"alpaca", "redis_url"}


def test_every_service_account_has_roles_and_workload_identity_matches_the_manifests() -> None:
    accounts = model()["locals"]["accounts"]
    roles = model()["locals"]["project_roles"]
    assert set(roles) == set(accounts)
    for ksa in generated("workloads.json").values():
        assert ksa["account_id"].removeprefix("farm-") in accounts, ksa
    binding = resources("google_service_account_iam_member")["workload_identity"]
    assert binding["role"] == "roles/iam.workloadIdentityUser"
    assert ".svc.id.goog[${each.value.namespace}/${each.value.name}]" in binding["member"]


def test_runtime_account_publishes_only_snapshots_and_writes_only_fmel() -> None:
    publishers = model()["locals"]["topic_publishers"]
    assert [t for t, who in publishers.items() if "runtime" in who] == [topics.PERFORMANCE_UPDATES]
    datasets = {k.split("/")[0]: v for k, v in model()["locals"]["dataset_roles"].items() if k.endswith("/runtime")}
    assert datasets == {"fmel": "roles/bigquery.dataEditor"}
    assert model()["locals"]["bucket_roles"]["runtime"] == "roles/storage.objectViewer"
    assert "roles/owner" not in str(model()["locals"]["project_roles"])
    assert "roles/editor" not in str(model()["locals"]["project_roles"])


def test_gke_is_private_with_a_gvisor_pool_and_workload_identity() -> None:
    cluster = resources("google_container_cluster")["farm"]
    assert cluster["private_cluster_config"][0]["enable_private_nodes"] is True
    assert cluster["workload_identity_config"][0]["workload_pool"] == "${var.project}.svc.id.goog"
    sandbox = resources("google_container_node_pool")["sandbox"]["node_config"][0]
    assert sandbox["sandbox_config"][0]["sandbox_type"] == "gvisor"
    assert sandbox["workload_metadata_config"][0]["mode"] == "GKE_METADATA"
    agent = (ROOT / "runtime" / "k8s" / "sandbox-statefulset.yaml").read_text()
    assert "runtimeClassName: gvisor" in agent and "sandbox.gke.io/runtime: gvisor" in agent
    host = (ROOT / "runtime" / "k8s" / "statefulset.yaml").read_text()
    assert "gvisor" not in host  # trusted pods never share the agents' sandbox nodes


def test_redis_is_reached_through_the_connector_with_auth() -> None:
    redis = resources("google_redis_instance")["cache"]
    assert redis["auth_enabled"] is True
    config = resources("google_cloudfunctions2_function")["function"]["service_config"][0]
    assert config["vpc_connector"] == "${google_vpc_access_connector.functions.id}"
    assert config["secret_environment_variables"][0]["key"] == "FARM_REDIS_URL"


def test_alerts_cover_ingester_silence_function_errors_dead_letters_and_fmel_spill() -> None:
    alerts = resources("google_monitoring_alert_policy")
    assert set(alerts) == {"ingester_silent", "function_errors", "dead_letter_backlog", "fmel_spill_growing"}
    spill = resources("google_logging_metric")["fmel_spill"]["filter"]
    message = re.search(r'FMEL warehouse unavailable: spilled', spill)
    assert message and message.group(0) in (ROOT / "shared" / "fmel" / "recorder.py").read_text()


def test_terraform_fmt_is_clean() -> None:
    tool = shutil.which("terraform")
    if tool is None:
        pytest.skip("no terraform binary on PATH (none can be installed from the package registries)")
    result = subprocess.run([tool, "fmt", "-check", "-recursive", str(TERRAFORM)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, f"not formatted: {result.stdout}"
