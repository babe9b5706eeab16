"""GET /api/leaderboard/agents/<agent_id>: one agent's public rank, metrics and score."""

from __future__ import annotations

from typing import Any

import flask
import functions_framework

from functions.edge.http import http_endpoint
from functions.edge.leaderboard_args import leaderboards, ranking_from
from functions.edge.server_timing import server_timed
from shared.services.leaderboard import agent_standing

NAME = "farm-leaderboard-agent"


@functions_framework.http
@server_timed
@http_endpoint(NAME)
def leaderboard_agent(request: flask.Request, agent_id: str) -> Any:
    """Where `agent_id` stands in the ranking the query names; 404 when it is not ranked."""
    return agent_standing(agent_id, ranking_from(request), leaderboards())
