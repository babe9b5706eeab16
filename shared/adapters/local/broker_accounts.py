"""SimulatedAccounts: paper accounts of the simulated broker, kept in the documents port.

One account per agent (`broker_accounts/sim-<agent_id>`), so creating is idempotent. The
runtime's `SimulatedBroker` reads the same document at start and writes cash, positions and
fills back after every fill, so a restarted runtime resumes where the last one stopped.
"""

from __future__ import annotations

from typing import Any

from shared.domain.clock import now_iso
from shared.errors import InvalidInputError, NotFoundError
from shared.ports.broker import BROKER_ACCOUNTS, BrokerAccount, Holding, TradeFill
from shared.ports.documents import DocumentStore, Filter, Transaction

RECENT_TRADES = 20


def account_id_for(agent_id: str) -> str:
    """The simulated account id of an agent."""
    return f"sim-{agent_id}"


def account_from_document(account_id: str, doc: dict[str, Any]) -> BrokerAccount:
    """Build the port's view of a stored account document."""
    positions = tuple(
        Holding(symbol, float(p["size"]), float(p["price"]))
        for symbol, p in sorted(doc.get("positions", {}).items())
        if p.get("size")
    )
    trades = tuple(TradeFill(**t) for t in doc.get("recent_trades", []))
    return BrokerAccount(
        account_id=account_id,
        owner_uid=doc["owner_uid"],
        agent_id=doc["agent_id"],
        provider="simulated",
        status=doc["status"],
        cash=float(doc["cash"]),
        funded_total=float(doc.get("funded_total", 0.0)),
        positions=positions,
        recent_trades=trades,
        trades=int(doc.get("trades", 0)),
    )


class SimulatedAccounts:
    """`BrokerAccounts` over the documents port, for the embedded default."""

    def __init__(self, documents: DocumentStore) -> None:
        self.documents = documents

    def create_account(self, owner_uid: str, agent_id: str) -> BrokerAccount:
        """Create the agent's account with no cash, or return the one it has."""
        account_id = account_id_for(agent_id)

        def create(txn: Transaction) -> dict[str, Any]:
            doc = txn.get(BROKER_ACCOUNTS, account_id)
            if doc is not None:
                _check_owner(doc, owner_uid, account_id)
                return doc
            at = now_iso()
            doc = {
                "owner_uid": owner_uid, "agent_id": agent_id, "provider": "simulated",
                "status": "created", "cash": 0.0, "funded_total": 0.0, "fundings": {},
                "positions": {}, "recent_trades": [], "trades": 0, "created_at": at, "updated_at": at,
            }
            txn.create(BROKER_ACCOUNTS, account_id, doc)
            return doc

        return account_from_document(account_id, self.documents.transaction(create))

    def fund(
        self, owner_uid: str, account_id: str, amount: float = 25_000.0, *, idempotency_key: str
    ) -> BrokerAccount:
        """Add `amount` once per `idempotency_key` (a repeated key changes nothing)."""
        if not amount > 0:
            raise InvalidInputError(f"funding amount must be > 0, got {amount!r}")
        if not idempotency_key:
            raise InvalidInputError("funding needs an idempotency key")

        def fund(txn: Transaction) -> dict[str, Any]:
            doc = _check_owner(txn.get(BROKER_ACCOUNTS, account_id), owner_uid, account_id)
            if idempotency_key in doc.get("fundings", {}):
                return doc
            changes = {
                "cash": float(doc["cash"]) + amount,
                "funded_total": float(doc.get("funded_total", 0.0)) + amount,
                "fundings": {**doc.get("fundings", {}), idempotency_key: amount},
                "status": "funded",
                "updated_at": now_iso(),
            }
            txn.update(BROKER_ACCOUNTS, account_id, changes)
            return doc | changes

        return account_from_document(account_id, self.documents.transaction(fund))

    def get_account(self, owner_uid: str, account_id: str) -> BrokerAccount:
        """The caller's account; NotFoundError otherwise."""
        doc = _check_owner(self.documents.get(BROKER_ACCOUNTS, account_id), owner_uid, account_id)
        return account_from_document(account_id, doc)

    def account_for_agent(self, owner_uid: str, agent_id: str) -> BrokerAccount | None:
        """The agent's account, or None."""
        found = self.documents.query(
            BROKER_ACCOUNTS, [Filter("agent_id", "==", agent_id), Filter("owner_uid", "==", owner_uid)], limit=1
        )
        return account_from_document(*found[0]) if found else None


def _check_owner(doc: dict[str, Any] | None, owner_uid: str, account_id: str) -> dict[str, Any]:
    if doc is None or doc.get("owner_uid") != owner_uid:
        raise NotFoundError(f"broker account {account_id} not found")
    return doc
