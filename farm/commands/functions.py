"""`farm functions`: list the registry's functions, or generate their deployment config.

    farm functions                      a table: name, trigger, route or topic
    farm functions --deploy-commands    one `gcloud functions deploy ... --gen2` per function
    farm functions --firebase-json      Firebase Hosting: web/dist plus a rewrite per HTTP function

Generated from functions.registry, the same list `farm up` mounts. Project, region and GKE
cluster come from --project/--region/--gke-cluster, else FARM_GCP_PROJECT/FARM_GCP_REGION/
FARM_GKE_CLUSTER.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
from collections.abc import Sequence
from typing import Any

from functions.registry import FUNCTIONS, DocumentTrigger, FunctionSpec, HttpTrigger

NAME = "functions"
RUNTIME = "python311"
FIRESTORE_EVENT = "google.cloud.firestore.document.v1."
GKE_CLUSTER = "farm"  # the cluster terraform/gke.tf creates (cloudbuild.yaml's _CLUSTER)
_PATH_PARAM = re.compile(r"<path:\w+>")
_PARAM = re.compile(r"<(?:\w+:)?\w+>")


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `functions` subcommand to the farm command line."""
    parser = subparsers.add_parser(
        NAME,
        help="list functions or print their deploy commands",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--deploy-commands", action="store_true", help="print gcloud commands")
    out.add_argument("--firebase-json", action="store_true", help="print firebase.json")
    parser.add_argument("--project", default=None, help="GCP project (default FARM_GCP_PROJECT)")
    parser.add_argument("--region", default=None, help="GCP region (default FARM_GCP_REGION)")
    parser.add_argument("--gke-cluster", default=None,
                        help=f"the runtimes' GKE cluster (default FARM_GKE_CLUSTER, else {GKE_CLUSTER})")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the table, the deploy commands or the Hosting config."""
    project = args.project or os.environ.get("FARM_GCP_PROJECT") or "YOUR_PROJECT"
    region = args.region or os.environ.get("FARM_GCP_REGION") or "us-central1"
    cluster = args.gke_cluster or os.environ.get("FARM_GKE_CLUSTER") or GKE_CLUSTER
    if args.deploy_commands:
        for spec in FUNCTIONS:
            print(shlex.join(deploy_command(spec, project=project, region=region, gke_cluster=cluster)))
    elif args.firebase_json:
        print(json.dumps(firebase_config(FUNCTIONS, region=region), indent=2))
    else:
        print(function_table(FUNCTIONS))
    return 0


def function_table(specs: Sequence[FunctionSpec]) -> str:
    """A plain-text table of functions: name, trigger kind, route/topic, entry point."""
    rows = [("NAME", "TRIGGER", "ROUTE / SOURCE", "ENTRY POINT")]
    rows += [(s.name, *s.describe_trigger(), f"{s.module}.{s.entry_point}") for s in specs]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def deploy_command(spec: FunctionSpec, *, project: str, region: str, gke_cluster: str = GKE_CLUSTER) -> list[str]:
    """The `gcloud functions deploy` argv that deploys `spec` from the repository root.

    Every function gets the cluster setting: the orchestrator reaches the runtimes through it.
    """
    env = (f"FARM_BACKEND=gcp,FARM_GCP_PROJECT={project},FARM_GCP_REGION={region},"
           f"FARM_GKE_CLUSTER={gke_cluster},FARM_GKE_ENDPOINT=private")
    argv = [
        "gcloud",
        "functions",
        "deploy",
        spec.name,
        "--gen2",
        f"--project={project}",
        f"--region={region}",
        f"--runtime={RUNTIME}",
        "--source=.",
        f"--entry-point={spec.entry_point}",
        f"--memory={spec.memory}",
        *([f"--cpu={spec.cpu}"] if spec.cpu else []),
        f"--timeout={spec.timeout_s}s",
        f"--min-instances={spec.min_instances}",
        f"--max-instances={spec.max_instances}",
        f"--set-env-vars={env}",
    ]
    t = spec.trigger
    if isinstance(t, HttpTrigger):
        argv += ["--trigger-http"]
        argv += ["--allow-unauthenticated" if spec.public else "--no-allow-unauthenticated"]
    elif isinstance(t, DocumentTrigger):
        argv += [
            f"--trigger-location={region}",
            f"--trigger-event-filters=type={FIRESTORE_EVENT}{t.event}",
            "--trigger-event-filters=database=(default)",
            f"--trigger-event-filters-path-pattern=document={t.collection}/{{doc_id}}",
            "--retry",  # handlers raise only for transient errors: let Eventarc retry them
        ]
    else:
        argv += [f"--trigger-topic={t.topic}", "--retry"]
    return argv


def firebase_config(specs: Sequence[FunctionSpec], *, region: str) -> dict[str, Any]:
    """firebase.json's `hosting` with one rewrite per HTTP function (most specific first)."""
    rewrites: list[dict[str, Any]] = [
        {
            "source": _PARAM.sub("*", _PATH_PARAM.sub("**", s.trigger.path)),
            "function": {"functionId": s.name, "region": region},
        }
        for s in specs
        if isinstance(s.trigger, HttpTrigger)
    ]
    # Hosting uses the first match: literal segments must win over wildcards.
    rewrites.sort(key=lambda r: (r["source"].count("*"), -len(r["source"])))
    return {"hosting": website_hosting(rewrites)}


def website_hosting(rewrites: list[dict[str, Any]]) -> dict[str, Any]:
    """Hosting of the built website (web/dist) around the function rewrites.

    Every other path is the single-page site's (its router reads the path), so the last rewrite
    sends it to index.html; hashed assets are cached for good, index.html revalidated.
    """
    return {
        "public": "web/dist",
        "predeploy": ["bash scripts/build-web.sh"],
        "ignore": ["firebase.json", "**/.*"],
        "rewrites": [*rewrites, {"source": "**", "destination": "/index.html"}],
        "headers": [
            {"source": "/assets/**",
             "headers": [{"key": "Cache-Control", "value": "public, max-age=31536000, immutable"}]},
            {"source": "/index.html", "headers": [{"key": "Cache-Control", "value": "no-cache"}]},
            {"source": "**", "headers": [{"key": "X-Content-Type-Options", "value": "nosniff"}]},
        ],
    }
