"""Pause, resume and read the output of the caller's agent's paper-trading session.

    POST /api/agents/<agent_id>/paper-trading/pause    trading -> paused (the runtime stops, the session waits)
    POST /api/agents/<agent_id>/paper-trading/resume   paused -> trading (decision numbering continues)
    GET  /api/agents/<agent_id>/paper-trading/output   the agent's output (print, logging), size-capped
"""

from __future__ import annotations

from typing import Any

import flask
import functions_framework

from functions import _platform
from functions.edge.http import http_endpoint, json_body
from shared.errors import InvalidInputError
from shared.ports.identity import Principal
from shared.services.agent_output import session_output
from shared.services.paper_controls import pause_paper_trading, resume_paper_trading
from shared.services.rate_limits import PAPER_STARTS, REQUESTS

PAUSE, RESUME, OUTPUT = "farm-paper-trading-pause", "farm-paper-trading-resume", "farm-paper-trading-output"


@functions_framework.http
@http_endpoint(PAUSE, auth=True, limits=(REQUESTS,))
def paper_trading_pause(request: flask.Request, caller: Principal, agent_id: str) -> Any:
    """Pause the session (waits for the runtime's graceful exit)."""
    _no_fields(request)
    p = _platform.platform()
    return pause_paper_trading(caller.uid, agent_id, documents=p.documents, orchestrator=p.orchestrator)


@functions_framework.http
@http_endpoint(RESUME, auth=True, limits=(REQUESTS, PAPER_STARTS))
def paper_trading_resume(request: flask.Request, caller: Principal, agent_id: str) -> Any:
    """Resume a paused session."""
    _no_fields(request)
    p = _platform.platform()
    return resume_paper_trading(caller.uid, agent_id, documents=p.documents, orchestrator=p.orchestrator)


@functions_framework.http
@http_endpoint(OUTPUT, auth=True, limits=(REQUESTS,))
def paper_trading_output(request: flask.Request, caller: Principal, agent_id: str) -> Any:
    """What the agent printed or logged in its latest session (the last 64 KiB)."""
    p = _platform.platform()
    return session_output(caller.uid, agent_id, documents=p.documents, blobs=p.blobs, data_dir=p.settings.data_dir)


def _no_fields(request: flask.Request) -> None:
    unknown = sorted(json_body(request, optional=True))
    if unknown:
        raise InvalidInputError(f"unknown field(s) {unknown}; this request takes no body")
