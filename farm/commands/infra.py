"""`farm infra`: generate or check terraform/generated/*.json from the code's registries.

    farm infra generate   write the files (functions, tables, topics, indexes, secrets, workloads)
    farm infra check      exit 1 naming the files that are stale (run `farm infra generate`)

Terraform reads these files with jsondecode(file(...)) and for_each, so provisioning follows
functions/registry.py, shared/schemas/ and the Kubernetes manifests without a second copy.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `infra` subcommand to the farm command line."""
    parser = subparsers.add_parser(
        "infra",
        help="generate or check terraform's generated inputs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=("generate", "check"))
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Generate the files, or report the stale ones."""
    from farm.deploy.generate import GENERATED, generate, stale

    if args.action == "generate":
        changed = generate()
        print(f"{len(changed)} file(s) updated in {GENERATED}" if changed else f"{GENERATED} is up to date")
        return 0
    outdated = stale()
    if outdated:
        print(f"stale in {GENERATED}: {', '.join(outdated)}; run `farm infra generate`", file=sys.stderr)
        return 1
    print(f"{GENERATED} is up to date")
    return 0
