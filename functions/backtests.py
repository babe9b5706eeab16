"""POST /api/agents/<agent_id>/backtests: queue a backtest of one of the caller's agents (202)."""

from __future__ import annotations

from typing import Any

import flask
import functions_framework

from functions import _platform
from functions._http import http_endpoint, json_body
from shared.ports.identity import Principal
from shared.services import backtests
from shared.services.rate_limits import BACKTESTS, REQUESTS

NAME = "farm-backtests"


@functions_framework.http
@http_endpoint(NAME, auth=True, limits=(REQUESTS, BACKTESTS))
def agent_backtests(request: flask.Request, caller: Principal, agent_id: str) -> Any:
    """Start a backtest with `{symbols, start, end, cash, commission, timeframe}` (all optional)."""
    body = json_body(request) if request.content_length else {}
    platform = _platform.platform()
    queued = backtests.request_backtest(
        caller.uid, agent_id, body, documents=platform.documents, messages=platform.messages
    )
    return queued, 202, {"Location": f"/api/backtests/{queued['run_id']}"}
