"""GET /api/broker/accounts/<account_id>: balance and positions of one of the caller's accounts."""

from __future__ import annotations

from typing import Any

import flask
import functions_framework

from functions import _platform
from functions.edge.http import http_endpoint
from shared.ports.identity import Principal
from shared.services import broker_accounts
from shared.services.rate_limits import REQUESTS

NAME = "farm-broker-account-item"


@functions_framework.http
@http_endpoint(NAME, auth=True, limits=(REQUESTS,))
def broker_account_item(request: flask.Request, caller: Principal, account_id: str) -> Any:
    """Show the account; 404 when it is missing or someone else's."""
    accounts = _platform.platform().broker_accounts
    return broker_accounts.account(accounts, caller.uid, account_id).to_json()
