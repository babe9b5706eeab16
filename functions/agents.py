"""POST /api/agents (submit an agent) and GET /api/agents (the caller's agents, paginated)."""

from __future__ import annotations

from typing import Any

import flask
import functions_framework

from functions import _platform
from functions.edge.agent_uploads import submission_from
from functions.edge.http import http_endpoint
from shared.errors import InvalidInputError
from shared.ports.identity import Principal
from shared.services import agents
from shared.services.agent_pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from shared.services.rate_limits import REQUESTS, SUBMISSIONS

NAME = "farm-agents"


@functions_framework.http
@http_endpoint(NAME, auth=True, limits=(REQUESTS,), method_limits={"POST": (SUBMISSIONS,)})
def agents_collection(request: flask.Request, caller: Principal) -> Any:
    """Submit an agent (POST, 201) or list the caller's agents (GET)."""
    if request.method == "POST":
        return _submit(request, caller)
    return _list(request, caller)


def _submit(request: flask.Request, caller: Principal) -> tuple[dict[str, Any], int, dict[str, str]]:
    platform = _platform.platform()
    cmd = submission_from(request, caller.uid)
    stored = agents.submit_agent(cmd, documents=platform.documents, blobs=platform.blobs)
    body = {"agent_id": stored.agent_id, "status": stored.status}
    return body, 201, {"Location": f"/api/agents/{stored.agent_id}"}


def _list(request: flask.Request, caller: Principal) -> dict[str, Any]:
    args = request.args
    raw_limit = args.get("limit", str(DEFAULT_PAGE_SIZE))
    try:
        limit = int(raw_limit)
    except ValueError:
        raise InvalidInputError(f"limit must be an integer from 1 to {MAX_PAGE_SIZE}") from None
    cmd = agents.ListAgents(caller.uid, limit, args.get("page_token") or None)
    page = agents.list_agents(cmd, documents=_platform.platform().documents)
    return {"agents": page.agents, "next_page_token": page.next_page_token}
