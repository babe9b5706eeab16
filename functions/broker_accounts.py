"""POST /api/broker/accounts: open the paper account of one of the caller's agents."""

from __future__ import annotations

from typing import Any

import flask
import functions_framework

from functions import _platform
from functions.edge.http import http_endpoint, json_body
from shared.errors import InvalidInputError
from shared.ports.identity import Principal
from shared.services import broker_accounts
from shared.services.rate_limits import REQUESTS

NAME = "farm-broker-accounts"


@functions_framework.http
@http_endpoint(NAME, auth=True, limits=(REQUESTS,))
def broker_accounts_collection(request: flask.Request, caller: Principal) -> Any:
    """Open `{agent_id}`'s account: 201 when new, 200 when it already had one."""
    agent_id = json_body(request).get("agent_id")
    if not isinstance(agent_id, str) or not agent_id:
        raise InvalidInputError("agent_id (string) is required")
    platform = _platform.platform()
    account, created = broker_accounts.open_account(
        platform.broker_accounts, platform.documents, caller.uid, agent_id
    )
    return account.to_json(), 201 if created else 200
