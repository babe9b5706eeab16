"""POST /api/broker/accounts/<account_id>/funding: add cash (default $25,000), once per key.

The idempotency key comes from the `Idempotency-Key` header (or an `idempotency_key` field),
so a retried request funds once.
"""

from __future__ import annotations

from typing import Any

import flask
import functions_framework

from functions import _platform
from functions._http import http_endpoint
from shared import bootstrap
from shared.errors import InvalidInputError
from shared.ports.identity import Principal
from shared.services import broker_accounts
from shared.services.rate_limits import REQUESTS

NAME = "farm-broker-funding"


@functions_framework.http
@http_endpoint(NAME, auth=True, limits=(REQUESTS,))
def broker_funding(request: flask.Request, caller: Principal, account_id: str) -> Any:
    """Fund the caller's account and return it."""
    body: dict[str, Any] = {}
    if request.content_length or request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise InvalidInputError("request body must be a JSON object")
    amount, key = broker_accounts.funding_request(body, request.headers.get("Idempotency-Key"))
    accounts = bootstrap.broker_accounts(_platform.platform())
    return broker_accounts.fund_account(accounts, caller.uid, account_id, amount, key).to_json()
