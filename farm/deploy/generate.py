"""Build and write terraform/generated/*.json from the registries; detect stale copies.

Each document is a pure function of the code (no timestamps, sorted keys), so generating
twice gives identical bytes and `check` can compare byte for byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from farm.deploy.firestore_indexes import derive
from functions.registry import FUNCTIONS, DocumentTrigger, FunctionSpec, HttpTrigger
from shared.schemas import topics
from shared.schemas.warehouse import TABLES, Column, Table
from shared.venues.alpaca.config import ENV_NAMES as TRADING_KEY_ENVS

ROOT = Path(__file__).resolve().parents[2]
GENERATED = Path("terraform") / "generated"
FIRESTORE_EVENT = "google.cloud.firestore.document.v1."
PUBSUB_EVENT = "google.cloud.pubsub.topic.v1.messagePublished"
BROKER_KEY_ENVS = ("APCA_BROKER_API_KEY_ID", "APCA_BROKER_API_SECRET_KEY")  # shared/venues/alpaca/config.py
MANIFEST_GLOBS = ("ingester/k8s/*.yaml", "runtime/k8s/*.yaml", "k8s/*.yaml")
_WI_ANNOTATION = "iam.gke.io/gcp-service-account"
_GSA = re.compile(r"^([a-z][a-z0-9-]{4,28}[a-z0-9])@")


def function_doc(spec: FunctionSpec, root: Path = ROOT) -> dict[str, Any]:
    """One function's deployment settings, as terraform's for_each reads them."""
    t = spec.trigger
    trigger: dict[str, Any]
    if isinstance(t, HttpTrigger):
        trigger = {"kind": "http", "path": t.path, "methods": list(t.methods)}
    elif isinstance(t, DocumentTrigger):
        trigger = {"kind": "firestore", "event_type": FIRESTORE_EVENT + t.event,
                   "collection": t.collection, "document": f"{t.collection}/{{doc_id}}"}
    else:
        trigger = {"kind": "pubsub", "event_type": PUBSUB_EVENT, "topic": t.topic}
    return {
        "module": spec.module,
        "entry_point": spec.entry_point,
        "trigger": trigger,
        "memory": spec.memory,
        "cpu": spec.cpu,
        "timeout_s": spec.timeout_s,
        "min_instances": spec.min_instances,
        "max_instances": spec.max_instances,
        "public": spec.public,
        "secret_envs": list(function_secret_envs(spec, root)),
    }


def function_secret_envs(spec: FunctionSpec, root: Path = ROOT) -> tuple[str, ...]:
    """The secret env names a function reads: the Broker API keys when it opens broker accounts."""
    declared = tuple(getattr(spec, "secrets", ()))  # a registry field, should one be added
    source = (root / (spec.module.replace(".", "/") + ".py")).read_text()
    # The broker-accounts adapter reads its keys from the environment (never from settings).
    uses_broker = re.search(r"\bbroker_accounts\(|\.broker_accounts\b", source) is not None
    return tuple(dict.fromkeys(declared + (BROKER_KEY_ENVS if uses_broker else ())))


def bigquery_schema(columns: tuple[Column, ...]) -> list[dict[str, Any]]:
    """Columns in BigQuery's JSON schema form (nested RECORD fields included)."""
    out = []
    for c in columns:
        field: dict[str, Any] = {"name": c.name, "type": c.type, "mode": c.mode}
        if c.description:
            field["description"] = c.description
        if c.fields:
            field["fields"] = bigquery_schema(c.fields)
        out.append(field)
    return out


def table_doc(t: Table) -> dict[str, Any]:
    """One table's terraform settings with its full schema."""
    return {
        "dataset": t.dataset,
        "table": t.name,
        "description": t.description,
        "partition_field": t.partition_field,
        "partition_expiration_days": t.partition_expiration_days,
        "clustering": list(t.clustering),
        "schema": bigquery_schema(t.columns),
    }


def topics_doc() -> dict[str, Any]:
    """Every topic with its dead-letter topic and the delivery attempts before dead-lettering."""
    return {
        "max_delivery_attempts": topics.MAX_DELIVERY_ATTEMPTS,
        "topics": {t: {"dead_letter": topics.dead_letter(t)} for t in topics.TOPICS},
    }


def workloads_doc(root: Path = ROOT) -> dict[str, Any]:
    """Kubernetes service accounts bound to Google service accounts (Workload Identity)."""
    out: dict[str, Any] = {}
    for pattern in MANIFEST_GLOBS:
        for path in sorted(root.glob(pattern)):
            for doc in yaml.safe_load_all(path.read_text()):
                if not doc or doc.get("kind") != "ServiceAccount":
                    continue
                meta = doc["metadata"]
                gsa = (meta.get("annotations") or {}).get(_WI_ANNOTATION)
                if not gsa:
                    continue
                match = _GSA.match(gsa)
                if not match:
                    raise ValueError(f"{path}: {_WI_ANNOTATION} {gsa!r} is not a service account email")
                key = f"{meta['namespace']}/{meta['name']}"
                out[key] = {"namespace": meta["namespace"], "name": meta["name"],
                            "account_id": match.group(1), "manifest": str(path.relative_to(root))}
    return out


def documents(root: Path = ROOT) -> dict[str, Any]:
    """Every generated file name and its content."""
    return {
        "functions.json": {s.name: function_doc(s, root) for s in FUNCTIONS},
        "tables.json": {t.ref: table_doc(t) for t in TABLES},
        "topics.json": topics_doc(),
        "firestore_indexes.json": {
            i.key: {"collection": i.collection,
                    "fields": [{"field_path": f, "order": o} for f, o in i.fields]}
            for i in derive(root)
        },
        "secrets.json": {
            "trading_keys": list(TRADING_KEY_ENVS),  # ingester + runtimes, via the k8s Secret
            "broker_keys": list(BROKER_KEY_ENVS),  # functions that open broker accounts
        },
        "workloads.json": workloads_doc(root),
    }


def render(doc: Any) -> str:
    """The exact text written for `doc` (stable: sorted keys, trailing newline)."""
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def generate(root: Path = ROOT, *, write: Callable[[Path, str], None] | None = None) -> list[Path]:
    """Write every generated file under `root`; return the paths whose content changed."""
    target = root / GENERATED
    target.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, doc in documents(root).items():
        path, text = target / name, render(doc)
        if not path.exists() or path.read_text() != text:
            (write or _write)(path, text)
            changed.append(path)
    return changed


def stale(root: Path = ROOT) -> list[str]:
    """Names of generated files that are missing or differ from what the code generates now."""
    target = root / GENERATED
    return [
        name for name, doc in documents(root).items()
        if not (target / name).exists() or (target / name).read_text() != render(doc)
    ]


def _write(path: Path, text: str) -> None:
    path.write_text(text)
