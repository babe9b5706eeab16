"""The Broker API client, and the one translation of its errors into the platform's.

Both halves of the Alpaca venue use it: the accounts adapter (open, fund, read accounts) and
the execution broker (trade one account through the per-account endpoints).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import requests
from alpaca.broker.client import BrokerClient
from alpaca.common.exceptions import APIError

from shared.errors import NotFoundError, TransientError, ValidationFailedError
from shared.venues.alpaca.config import BrokerApiConfig

T = TypeVar("T")


def broker_client(config: BrokerApiConfig) -> BrokerClient:
    """A Broker API client for the sandbox (or `config.url`, e.g. a local fake)."""
    c = config.credentials
    return BrokerClient(c.key_id, c.secret_key, sandbox=True, url_override=config.url)


def call(fn: Callable[[], T]) -> T:
    """Run one Broker API call, translating alpaca-py and network errors into platform errors."""
    try:
        return fn()
    except APIError as exc:
        status = exc.status_code or 500
        # Alpaca's error body ({"code","message"}) never carries our keys; keep it short.
        message = f"Alpaca Broker API answered {status}: {str(exc)[:200]}"
        if status == 404:
            raise NotFoundError(message) from None
        if status in (400, 422):
            raise ValidationFailedError(message) from None
        raise TransientError(message) from None
    except requests.RequestException as exc:
        raise TransientError(f"Alpaca Broker API unreachable: {type(exc).__name__}") from None
