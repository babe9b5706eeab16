"""GET /api/fmel/decisions: the caller's agents' FMEL decisions, filtered, cursor-paginated."""

from __future__ import annotations

from typing import Any

import flask
import functions_framework

from functions import _platform
from functions.edge.fmel_args import filter_from, page_size
from functions.edge.http import http_endpoint
from shared.ports.identity import Principal
from shared.services.fmel_analytics import list_decisions
from shared.services.rate_limits import REQUESTS

NAME = "farm-fmel-decisions"


@functions_framework.http
@http_endpoint(NAME, auth=True, limits=(REQUESTS,))
def fmel_decisions(request: flask.Request, caller: Principal) -> Any:
    """One page of the caller's decisions, oldest first; `cursor` continues a listing."""
    platform = _platform.platform()
    page = list_decisions(
        filter_from(request, caller.uid), warehouse=platform.warehouse, documents=platform.documents,
        limit=page_size(request), cursor=request.args.get("cursor") or None,
    )
    return {"decisions": page.decisions, "next_cursor": page.next_cursor}
