"""GET /api/fmel/agents/<agent_id>/analytics: decisions by action, reads, trades, P&L by decision."""

from __future__ import annotations

from typing import Any

import flask
import functions_framework

from functions import _platform
from functions.edge.fmel_args import filter_from
from functions.edge.http import http_endpoint
from shared.ports.identity import Principal
from shared.services.fmel_analytics import agent_analytics
from shared.services.rate_limits import REQUESTS

NAME = "farm-fmel-analytics"


@functions_framework.http
@http_endpoint(NAME, auth=True, limits=(REQUESTS,))
def fmel_agent_analytics(request: flask.Request, caller: Principal, agent_id: str) -> Any:
    """Analytics of one of the caller's agents (404 for anyone else's), same filters as decisions."""
    platform = _platform.platform()
    flt = filter_from(request, caller.uid, agent_id)
    return agent_analytics(flt, warehouse=platform.warehouse, documents=platform.documents)
