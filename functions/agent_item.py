"""GET /api/agents/<agent_id> (one agent in full) and DELETE (soft delete, 204)."""

from __future__ import annotations

import logging
from typing import Any

import flask
import functions_framework

from functions import _platform
from functions.edge.http import http_endpoint
from functions.edge.leaderboard_args import leaderboards
from shared.domain.clock import now_iso
from shared.ports.identity import Principal
from shared.services import agents
from shared.services.leaderboard_withdrawal import withdraw_agent
from shared.services.rate_limits import REQUESTS

NAME = "farm-agent-item"
log = logging.getLogger(__name__)


@functions_framework.http
@http_endpoint(NAME, auth=True, limits=(REQUESTS,))
def agent_item(request: flask.Request, caller: Principal, agent_id: str) -> Any:
    """Show one of the caller's agents, or soft-delete it; 404 when it is not theirs."""
    documents = _platform.platform().documents
    if request.method == "DELETE":
        deleted = agents.delete_agent(
            agents.DeleteAgent(caller.uid, agent_id), documents=documents
        )
        if deleted.stop_runtime:
            # The `agents` updated trigger (runtime work) stops it; noted here for the logs.
            log.info("agent %s deleted while %s: its runtime must stop", agent_id, deleted.status)
        # Off every board before answering; the trigger records it again if this fails.
        withdraw_agent(agent_id, caller.uid, now_iso(), leaderboards())
        return None
    return agents.agent_detail(agent_id, agents.get_agent(documents, caller.uid, agent_id))
