"""A finished run's chart and the agent's own output, for the run's owner.

    GET /api/backtests/<run_id>/chart    the chart as a PNG (equity, benchmark, trade markers, drawdown)
    GET /api/backtests/<run_id>/curves   the same curves as JSON, for a client to draw
    GET /api/backtests/<run_id>/output   the agent's output (print, logging), size-capped
"""

from __future__ import annotations

from typing import Any

import flask
import functions_framework

from functions import _platform
from functions.edge.http import http_endpoint
from shared.ports.identity import Principal
from shared.services.agent_output import backtest_output
from shared.services.backtest_charts import backtest_chart, backtest_curves
from shared.services.rate_limits import REQUESTS

CHART, CURVES, OUTPUT = "farm-backtest-chart", "farm-backtest-curves", "farm-backtest-output"


@functions_framework.http
@http_endpoint(CHART, auth=True, limits=(REQUESTS,))
def backtest_chart_png(request: flask.Request, caller: Principal, run_id: str) -> flask.Response:
    """The run's chart as image/png; 409 until the run has succeeded."""
    p = _platform.platform()
    png = backtest_chart(caller.uid, run_id, documents=p.documents, blobs=p.blobs, warehouse=p.warehouse)
    response = flask.Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=3600"  # a finished run never changes
    return response


@functions_framework.http
@http_endpoint(CURVES, auth=True, limits=(REQUESTS,))
def backtest_chart_curves(request: flask.Request, caller: Principal, run_id: str) -> Any:
    """Equity, benchmark, drawdown and trade markers of the run, with its data label."""
    p = _platform.platform()
    return backtest_curves(caller.uid, run_id, documents=p.documents, blobs=p.blobs, warehouse=p.warehouse)


@functions_framework.http
@http_endpoint(OUTPUT, auth=True, limits=(REQUESTS,))
def backtest_agent_output(request: flask.Request, caller: Principal, run_id: str) -> Any:
    """What the agent printed or logged during the run (the last 64 KiB)."""
    p = _platform.platform()
    return backtest_output(caller.uid, run_id, documents=p.documents, blobs=p.blobs, data_dir=p.settings.data_dir)
