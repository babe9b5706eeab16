"""POST /api/agents/<agent_id>/backtests (queue a backtest, 202) and GET (the agent's runs)."""

from __future__ import annotations

from typing import Any

import flask
import functions_framework

from functions import _platform
from functions.edge.http import http_endpoint, json_body
from shared.errors import InvalidInputError
from shared.ports.identity import Principal
from shared.services import backtests
from shared.services.backtest_views import DEFAULT_RUNS_PAGE, MAX_RUNS_PAGE, list_backtests
from shared.services.rate_limits import BACKTESTS, REQUESTS

NAME = "farm-backtests"


@functions_framework.http
@http_endpoint(NAME, auth=True, limits=(REQUESTS,), method_limits={"POST": (BACKTESTS,)})
def agent_backtests(request: flask.Request, caller: Principal, agent_id: str) -> Any:
    """Start a backtest with `{symbols, start, end, cash, commission, timeframe}` (all optional),
    or list the agent's runs, newest first (`limit`, `page_token`)."""
    platform = _platform.platform()
    if request.method == "GET":
        page = list_backtests(caller.uid, agent_id, documents=platform.documents,
                              limit=_limit(request.args.get("limit")),
                              page_token=request.args.get("page_token") or None)
        return {"runs": page.runs, "next_page_token": page.next_page_token}
    body = json_body(request, optional=True)
    queued = backtests.request_backtest(
        caller.uid, agent_id, body, documents=platform.documents, messages=platform.messages
    )
    return queued, 202, {"Location": f"/api/backtests/{queued['run_id']}"}


def _limit(raw: str | None) -> int:
    try:
        return int(raw) if raw else DEFAULT_RUNS_PAGE
    except ValueError:
        raise InvalidInputError(f"limit must be an integer from 1 to {MAX_RUNS_PAGE}") from None
