"""POST /api/broker/accounts/<account_id>/funding: add cash (default $25,000), once per key.

The idempotency key comes from the `Idempotency-Key` header (or an `idempotency_key` field),
so a retried request funds once.
"""

from __future__ import annotations

from typing import Any

import flask
import functions_framework

from functions import _platform
from functions.edge.http import http_endpoint
from shared.errors import InvalidInputError
from shared.ports.identity import Principal
from shared.services import broker_accounts
from shared.services.rate_limits import REQUESTS

NAME = "farm-broker-funding"


@functions_framework.http
@http_endpoint(NAME, auth=True, limits=(REQUESTS,))
def broker_funding(request: flask.Request, caller: Principal, account_id: str) -> Any:
    """Fund the caller's account and return it."""
    body = _body(request)
    amount, key = broker_accounts.funding_request(body, request.headers.get("Idempotency-Key"))
    accounts = _platform.platform().broker_accounts
    return broker_accounts.fund_account(accounts, caller.uid, account_id, amount, key).to_json()


def _body(request: flask.Request) -> dict[str, Any]:
    # Optional, and JSON when there is one; a non-JSON body stays a 400 here, as documented.
    if not request.get_data(cache=True).strip():
        return {}
    body = request.get_json(silent=True, force=True)
    if not isinstance(body, dict):
        raise InvalidInputError("request body must be a JSON object")
    return body
