"""GET /healthz: liveness of the function layer (public, cheap, touches no store)."""

from __future__ import annotations

import os
from typing import Any

import flask
import functions_framework

from functions import _platform
from functions.edge.http import http_endpoint


@functions_framework.http
@http_endpoint("farm-healthz")
def healthz(request: flask.Request) -> dict[str, Any]:
    """Report that the service is up, with its backend and revision."""
    settings = _platform.settings()
    return {
        "status": "ok",
        "backend": settings.backend,
        # Cloud Run sets these for every Gen2 function; locally they are absent.
        "service": os.environ.get("K_SERVICE", "farm-local"),
        "revision": os.environ.get("K_REVISION", "local"),
    }
