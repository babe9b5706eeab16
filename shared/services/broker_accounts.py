"""Broker-account use cases (SPEC §4): open an agent's paper account, fund it, read it.

Only an agent's owner may open its account; every account read or funded is checked against
the caller (NotFoundError otherwise, never revealing that it exists). Funding is idempotent:
the same key funds once, however often the request is retried.
"""

from __future__ import annotations

from typing import Any

from shared.domain.broker_account import MAX_FUNDING, MAX_KEY_LENGTH, check_funding
from shared.ports.broker import DEFAULT_FUNDING, BrokerAccount, BrokerAccounts
from shared.ports.documents import DocumentStore
from shared.services import agents

__all__ = ["MAX_FUNDING", "MAX_KEY_LENGTH", "account", "fund_account", "funding_request", "open_account"]


def open_account(
    accounts: BrokerAccounts, documents: DocumentStore, owner_uid: str, agent_id: str
) -> tuple[BrokerAccount, bool]:
    """Open the account of the caller's agent; returns it and whether it is new."""
    agents.get_agent(documents, owner_uid, agent_id)  # NotFoundError unless the caller owns it
    existing = accounts.account_for_agent(owner_uid, agent_id)
    if existing is not None:
        return existing, False
    return accounts.create_account(owner_uid, agent_id), True


def fund_account(
    accounts: BrokerAccounts, owner_uid: str, account_id: str, amount: float, idempotency_key: str
) -> BrokerAccount:
    """Add `amount` (checked) to the caller's account once per `idempotency_key`."""
    return accounts.fund(owner_uid, account_id, amount, idempotency_key=idempotency_key)


def account(accounts: BrokerAccounts, owner_uid: str, account_id: str) -> BrokerAccount:
    """The caller's account: balance and positions."""
    return accounts.get_account(owner_uid, account_id)


def funding_request(body: dict[str, Any], header_key: str | None) -> tuple[float, str]:
    """Read (amount, idempotency key) from a funding request; InvalidInputError when bad."""
    return check_funding(body.get("amount", DEFAULT_FUNDING), header_key or body.get("idempotency_key"))
