"""POST /api/agents/<agent_id>/paper-trading/reconciliations (queue one, 202) and GET one by id."""

from __future__ import annotations

from typing import Any

import flask
import functions_framework

from functions import _platform
from functions.edge.http import http_endpoint, json_body
from shared.ports.identity import Principal
from shared.services import reconciliations
from shared.services.rate_limits import BACKTESTS, REQUESTS

NAME = "farm-reconciliations"
ITEM = "farm-reconciliation-item"
CHART = "farm-reconciliation-chart"


@functions_framework.http
@http_endpoint(NAME, auth=True, limits=(REQUESTS, BACKTESTS))  # a replay costs what a backtest does
def agent_reconciliations(request: flask.Request, caller: Principal, agent_id: str) -> Any:
    """Reconcile the agent's paper session with its replay (`{}` or `{"session_id"}`), or two of its
    backtests (`{"backtests": [baseline, compared]}`)."""
    platform = _platform.platform()
    body = json_body(request, optional=True)
    queued = reconciliations.request_reconciliation(caller.uid, agent_id, body, documents=platform.documents,
                                                    messages=platform.messages)
    location = f"/api/agents/{agent_id}/paper-trading/reconciliations/{queued['reconciliation_id']}"
    return queued, 202, {"Location": location}


@functions_framework.http
@http_endpoint(ITEM, auth=True, limits=(REQUESTS,))
def agent_reconciliation_item(request: flask.Request, caller: Principal, agent_id: str,
                              reconciliation_id: str) -> Any:
    """The reconciliation: status, summary, the first divergences, findings."""
    platform = _platform.platform()
    return reconciliations.get_reconciliation(caller.uid, agent_id, reconciliation_id, documents=platform.documents)


@functions_framework.http
@http_endpoint(CHART, auth=True, limits=(REQUESTS,))
def agent_reconciliation_chart(request: flask.Request, caller: Principal, agent_id: str,
                               reconciliation_id: str) -> Any:
    """The chart PNG: both equity curves, their gap, a marker per divergence."""
    platform = _platform.platform()
    png = reconciliations.reconciliation_chart(caller.uid, agent_id, reconciliation_id,
                                               documents=platform.documents, blobs=platform.blobs)
    return flask.Response(png, mimetype="image/png")
