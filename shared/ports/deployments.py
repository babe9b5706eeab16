"""Deployments port: what is deployed where, as the operator's `farm cloud status` shows it.

Gen2 Cloud Functions run as Cloud Run services named after the function, so one service
listing answers "is every function deployed, on which revision, and is it ready?".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ServiceStatus:
    """One deployed service: its short name, URL, latest ready revision and readiness."""

    name: str  # short name, e.g. "farm-agents" (not the full resource path)
    url: str | None
    latest_revision: str | None  # short name of the latest READY revision; None before any
    ready: bool
    reason: str | None = None  # why it is not ready (or a note while it reconciles); None when ready


class Deployments(Protocol):
    """Read-only view of the services deployed in one project and region."""

    def list_services(self, project: str, region: str) -> list[ServiceStatus]:
        """Every service in `project`/`region`, sorted by name; NotFoundError for an unknown location."""
        ...

    def get_service(self, project: str, region: str, name: str) -> ServiceStatus | None:
        """The service called `name`, or None when it is not deployed there."""
        ...
