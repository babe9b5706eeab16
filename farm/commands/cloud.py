"""`farm cloud status`: every registry function's Cloud Run service, its URL, revision and readiness.

    farm cloud status [--project P] [--region R] [--json]

Gen2 Cloud Functions run as Cloud Run services named after the function, so one listing of the
region's services shows, per function in the registry: its trigger, URL, latest ready
revision, and whether it is ready (with the reason when not). Registry functions with no
service are marked NOT DEPLOYED; deployed farm-* services the registry does not know are
listed too (left over from a rename or a removed function).

Exit codes: 0 every function deployed and ready, 1 some missing or not ready, 2 an error
(no project, no credentials, no permission, API unreachable). --project and --region default
to FARM_GCP_PROJECT and FARM_GCP_REGION.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from shared.errors import InvalidInputError

NAME = "cloud"
SERVICE_PREFIX = "farm-"  # every function the platform deploys is named farm-*
NOT_DEPLOYED = "NOT DEPLOYED"


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `cloud` subcommand (with its `status` action) to the farm command line."""
    parser = subparsers.add_parser(NAME, help="inspect the platform deployed on Google Cloud", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="cloud_action", metavar="ACTION", required=True)
    status = actions.add_parser("status", help="every function's Cloud Run service, revision and readiness")
    status.add_argument("--project", default=None, help="Google Cloud project (default FARM_GCP_PROJECT)")
    status.add_argument("--region", default=None, help="region of the functions (default FARM_GCP_REGION)")
    status.add_argument("--endpoint", default=None,
                        help="Cloud Run Admin API endpoint (default run.googleapis.com; http:// sends no credentials)")
    status.add_argument("--json", action="store_true", help="print the rows as JSON")
    status.set_defaults(func=run)
    return parser


@dataclass(frozen=True)
class Row:
    """One line of the status table: a registry function, or a farm-* service outside the registry."""

    function: str
    trigger: str
    url: str | None
    revision: str | None
    deployed: bool
    ready: bool
    reason: str | None
    in_registry: bool


def run(args: argparse.Namespace) -> int:
    """Look the services up and print the table; 0 when everything is deployed and ready."""
    from functions.registry import FUNCTIONS
    from shared.app import deployments
    from shared.settings import Settings

    settings = Settings.from_env()
    project = args.project or settings.gcp_project
    if not project:
        raise InvalidInputError("give --project or set FARM_GCP_PROJECT")
    region = args.region or settings.gcp_region
    services = deployments(endpoint=args.endpoint).list_services(project, region)
    rows = compare(FUNCTIONS, services)
    if args.json:
        print(json.dumps([asdict(row) for row in rows], indent=2))
    else:
        print(f"project {project}, region {region}")
        print(render(rows))
    healthy = all(row.deployed and row.ready for row in rows if row.in_registry)
    return 0 if healthy else 1


def compare(specs: Sequence[Any], services: Sequence[Any]) -> list[Row]:
    """Registry functions in registry order, then farm-* services the registry does not name."""
    by_name = {service.name: service for service in services}
    rows = []
    for spec in specs:
        kind, target = spec.describe_trigger()
        # A Gen2 function's service is named after the function, lowercased.
        service = by_name.get(spec.name.lower())
        rows.append(_row(spec.name, f"{kind} {target}", service, in_registry=True))
    known = {spec.name.lower() for spec in specs}
    rows += [_row(s.name, "-", s, in_registry=False) for s in services
             if s.name.startswith(SERVICE_PREFIX) and s.name not in known]
    return rows


def render(rows: Sequence[Row]) -> str:
    """The rows as an aligned table with a one-line summary under it."""
    header = ("FUNCTION", "TRIGGER", "URL", "LATEST READY REVISION", "READY")
    cells = [header] + [(r.function, r.trigger, r.url or "-", r.revision or "-", _ready(r)) for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line[:-1], widths, strict=True)) + "  " + line[-1]
             for line in cells]
    return "\n".join(lines + ["", summary(rows)])


def summary(rows: Sequence[Row]) -> str:
    """E.g. "22 functions: 20 ready, 1 not ready, 1 not deployed; 1 farm-* service not in the registry"."""
    registry = [r for r in rows if r.in_registry]
    ready = sum(r.deployed and r.ready for r in registry)
    missing = sum(not r.deployed for r in registry)
    not_ready = len(registry) - ready - missing
    text = f"{len(registry)} functions: {ready} ready, {not_ready} not ready, {missing} not deployed"
    extra = len(rows) - len(registry)
    if extra:
        text += f"; {extra} farm-* service{'s' if extra != 1 else ''} not in the registry"
    return text


def _row(name: str, trigger: str, service: Any, *, in_registry: bool) -> Row:
    if service is None:
        return Row(name, trigger, None, None, False, False, None, in_registry)
    return Row(name, trigger, service.url, service.latest_revision, True, service.ready, service.reason, in_registry)


def _ready(row: Row) -> str:
    if not row.deployed:
        return NOT_DEPLOYED
    text = f"{row.ready}" + (f" ({row.reason})" if row.reason else "")
    return text if row.in_registry else f"{text} [not in registry]"
