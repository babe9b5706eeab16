"""GET /api/backtests/<run_id>: a run's status and results (metrics, equity curve, trades, data label)."""

from __future__ import annotations

from typing import Any

import flask
import functions_framework

from functions import _platform
from functions.edge.http import http_endpoint
from shared.ports.identity import Principal
from shared.services import backtests
from shared.services.rate_limits import REQUESTS

NAME = "farm-backtest-item"


@functions_framework.http
@http_endpoint(NAME, auth=True, limits=(REQUESTS,))
def backtest_item(request: flask.Request, caller: Principal, run_id: str) -> Any:
    """Show one of the caller's runs; 404 when it is not theirs."""
    platform = _platform.platform()
    return backtests.get_backtest(caller.uid, run_id, documents=platform.documents, blobs=platform.blobs,
                                  warehouse=platform.warehouse)
