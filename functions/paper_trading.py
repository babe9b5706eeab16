"""POST (start), GET (status) and DELETE (stop) /api/agents/<agent_id>/paper-trading."""

from __future__ import annotations

from typing import Any

import flask
import functions_framework

from functions import _platform
from functions.edge.http import http_endpoint, json_body
from shared.errors import InvalidInputError
from shared.ports.identity import Principal
from shared.services import paper_trading
from shared.services.paper_markets import streamed_symbols
from shared.services.rate_limits import PAPER_STARTS, REQUESTS

NAME = "farm-paper-trading"
__all__ = ["NAME", "paper_trading_session"]


@functions_framework.http
@http_endpoint(NAME, auth=True, limits=(REQUESTS,), method_limits={"POST": (PAPER_STARTS,)})
def paper_trading_session(request: flask.Request, caller: Principal, agent_id: str) -> Any:
    """Start (201), show or stop (200) the caller's agent's paper-trading session."""
    platform = _platform.platform()
    if request.method == "GET":
        return paper_trading.get_paper_trading(caller.uid, agent_id, documents=platform.documents,
                                               replay=platform.settings.backend == "local")
    if request.method == "DELETE":
        return paper_trading.stop_paper_trading(
            caller.uid, agent_id, documents=platform.documents, orchestrator=platform.orchestrator
        )
    body = json_body(request, optional=True)
    unknown = sorted(set(body) - {"symbols", "timeframe"})
    if unknown:
        raise InvalidInputError(f"unknown field(s) {unknown}; allowed: symbols, timeframe")
    cmd = paper_trading.StartPaperTrading(
        owner_uid=caller.uid, agent_id=agent_id, symbols=body.get("symbols"),
        timeframe=body.get("timeframe", "1Min"),
    )
    session = paper_trading.start_paper_trading(
        cmd, documents=platform.documents, accounts=platform.broker_accounts,
        orchestrator=platform.orchestrator, universe=streamed_symbols(platform.documents, platform.settings),
    )
    return session, 201
