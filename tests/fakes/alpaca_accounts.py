"""The Broker API's account routes of the fake Alpaca: open accounts, ACH relationships, transfers.

Accounts open with the KYC sections alpaca-py sends (422 without them); an INCOMING transfer
over an approved relationship adds its amount to the account's cash at once, as the sandbox's
instant ACH does. The per-account trading routes are the Trading API's, served by the server.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.fakes.alpaca_state import Account, AlpacaApiError, Ledger, now, num


def accounts_route(ledger: Ledger, method: str, parts: list[str], body: dict[str, Any]) -> tuple[int, Any]:
    """Answer one Broker API call under /v1 (`parts` after it): (status, JSON body)."""
    if (method, parts) == ("POST", ["accounts"]):
        for key in ("contact", "identity", "disclosures", "agreements"):
            if key not in body:
                raise AlpacaApiError(422, 40010001, f"{key} is required")
        account = ledger.open_account()
        account.profile = body  # type: ignore[attr-defined]
        return 200, _broker_account(account)
    if len(parts) < 2 or parts[0] != "accounts":
        raise AlpacaApiError(404, 40410000, "endpoint not found")
    account = ledger.account(parts[1])
    tail = parts[2:]
    if (method, tail) == ("GET", []):
        return 200, _broker_account(account)
    if tail == ["ach_relationships"]:
        if method == "GET":
            return 200, list(account.ach.values())
        rel = {"id": str(uuid.uuid4()), "account_id": account.id, "created_at": now(), "updated_at": now(),
               "status": "APPROVED", **{k: body.get(k) for k in (
                   "account_owner_name", "bank_account_type", "bank_account_number",
                   "bank_routing_number", "nickname")}}
        account.ach[rel["id"]] = rel
        return 200, rel
    if tail == ["transfers"]:
        if method == "GET":
            return 200, account.transfers
        if body.get("relationship_id") not in account.ach or body.get("direction") != "INCOMING":
            raise AlpacaApiError(422, 40010001, "an approved ACH relationship and INCOMING direction are required")
        amount = float(body["amount"])
        with ledger.lock:
            account.cash += amount
        transfer = {"id": str(uuid.uuid4()), "account_id": account.id, "created_at": now(),
                    "updated_at": now(), "relationship_id": body["relationship_id"],
                    "amount": num(amount), "type": "ach", "status": "COMPLETE", "direction": "INCOMING"}
        account.transfers.append(transfer)
        return 200, transfer
    raise AlpacaApiError(404, 40410000, "endpoint not found")


def _broker_account(account: Account) -> dict[str, Any]:
    profile = getattr(account, "profile", {})
    return {"id": account.id, "account_number": account.number, "status": "ACTIVE",
            "crypto_status": "ACTIVE", "currency": "USD", "last_equity": num(account.cash),
            "created_at": account.created_at, "account_type": "trading",
            "contact": profile.get("contact"), "identity": profile.get("identity"),
            "disclosures": profile.get("disclosures"), "agreements": profile.get("agreements")}
