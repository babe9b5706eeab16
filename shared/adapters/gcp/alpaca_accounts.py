"""AlpacaBrokerAccounts: agents' paper accounts in Alpaca's Broker API sandbox (alpaca-py).

The platform's own record of each account (owner, agent, fundings by idempotency key) lives
in the documents port under `broker_accounts/alpaca-<agent_id>`; balances and positions are
read from Alpaca. The API's account id is that document id, so no Alpaca id is ever needed
by a caller and ownership is checked on our record before Alpaca is asked anything.
Funding is an instant ACH transfer in the sandbox over one ACH relationship per account.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from alpaca.broker.client import BrokerClient
from alpaca.broker.enums import (
    AgreementType,
    BankAccountType,
    EmploymentStatus,
    FundingSource,
    TaxIdType,
    TransferDirection,
    TransferTiming,
)
from alpaca.broker.models import Agreement, Contact, Disclosures, Identity
from alpaca.broker.requests import (
    CreateAccountRequest,
    CreateACHRelationshipRequest,
    CreateACHTransferRequest,
)
from alpaca.common.exceptions import APIError

from shared.alpaca.credentials import AlpacaCredentials
from shared.alpaca.symbols import canonical_symbol
from shared.domain.clock import now_iso
from shared.errors import (
    FarmError,
    InvalidInputError,
    NotFoundError,
    TransientError,
    ValidationFailedError,
)
from shared.ports.broker import BROKER_ACCOUNTS, DEFAULT_FUNDING, BrokerAccount, Holding
from shared.ports.documents import DocumentStore, Transaction

log = logging.getLogger(__name__)
T = TypeVar("T")

# Broker API keys are not the trading keys: their own names, read only from the environment
# (a Secret Manager-backed env var on Cloud Functions).
BROKER_KEY_ID_ENV = "APCA_BROKER_API_KEY_ID"
BROKER_SECRET_KEY_ENV = "APCA_BROKER_API_SECRET_KEY"
BROKER_URL_ENV = "APCA_BROKER_API_URL"  # optional; default: Alpaca's sandbox


def account_id_for(agent_id: str) -> str:
    """The platform's id of an agent's Alpaca account."""
    return f"alpaca-{agent_id}"


def credentials_from_env(environ: Mapping[str, str] | None = None) -> AlpacaCredentials:
    """The Broker API keys; SettingsError naming the missing variable."""
    environ = os.environ if environ is None else environ
    renamed = {"APCA_API_KEY_ID": environ.get(BROKER_KEY_ID_ENV, ""),
               "APCA_API_SECRET_KEY": environ.get(BROKER_SECRET_KEY_ENV, "")}
    try:
        return AlpacaCredentials.from_env(renamed)
    except FarmError as exc:
        raise type(exc)(f"Broker API keys missing: set {BROKER_KEY_ID_ENV} and {BROKER_SECRET_KEY_ENV}") from None


class AlpacaBrokerAccounts:
    """`BrokerAccounts` over Alpaca's Broker API (sandbox) plus the documents port."""

    def __init__(self, documents: DocumentStore, credentials: AlpacaCredentials, *, url: str | None = None) -> None:
        self.documents = documents
        self._credentials, self._url = credentials, url
        self._client: BrokerClient | None = None

    @classmethod
    def from_env(cls, documents: DocumentStore, environ: Mapping[str, str] | None = None) -> AlpacaBrokerAccounts:
        """Build with the Broker API keys (and optional URL) from the environment."""
        environ = os.environ if environ is None else environ
        return cls(documents, credentials_from_env(environ), url=environ.get(BROKER_URL_ENV) or None)

    @property
    def client(self) -> BrokerClient:
        """The Broker API client, created on first use."""
        if self._client is None:
            c = self._credentials
            self._client = BrokerClient(c.key_id, c.secret_key, sandbox=True, url_override=self._url)
        return self._client

    def create_account(self, owner_uid: str, agent_id: str) -> BrokerAccount:
        """Open the agent's sandbox account once; later calls return the same one."""
        account_id = account_id_for(agent_id)

        def reserve(txn: Transaction) -> tuple[dict[str, Any], bool]:
            doc = txn.get(BROKER_ACCOUNTS, account_id)
            if doc is not None:
                return _owned(doc, owner_uid, account_id), False
            at = now_iso()
            doc = {"owner_uid": owner_uid, "agent_id": agent_id, "provider": "alpaca", "status": "created",
                   "alpaca_account_id": None, "cash": 0.0, "funded_total": 0.0, "fundings": {},
                   "created_at": at, "updated_at": at}
            txn.create(BROKER_ACCOUNTS, account_id, doc)
            return doc, True

        doc, new = self.documents.transaction(reserve)
        if new:
            try:
                opened = _call(lambda: self.client.create_account(_sandbox_profile(agent_id)))
            except FarmError:
                self.documents.delete(BROKER_ACCOUNTS, account_id)  # let a retry open it
                raise
            changes = {"alpaca_account_id": str(opened.id), "updated_at": now_iso()}
            self.documents.update(BROKER_ACCOUNTS, account_id, changes)
            doc |= changes
        return self._view(account_id, doc)

    def fund(self, owner_uid: str, account_id: str, amount: float = DEFAULT_FUNDING, *,
             idempotency_key: str) -> BrokerAccount:
        """Transfer `amount` in once per `idempotency_key`; a repeated key changes nothing."""
        if not amount > 0:
            raise InvalidInputError(f"funding amount must be > 0, got {amount!r}")
        if not idempotency_key:
            raise InvalidInputError("funding needs an idempotency key")

        def reserve(txn: Transaction) -> tuple[dict[str, Any], bool]:
            doc = _owned(txn.get(BROKER_ACCOUNTS, account_id), owner_uid, account_id)
            if idempotency_key in doc.get("fundings", {}):
                return doc, False
            if not doc.get("alpaca_account_id"):
                raise TransientError("the account is still being opened; retry shortly")
            fundings = {**doc.get("fundings", {}), idempotency_key: "pending"}
            txn.update(BROKER_ACCOUNTS, account_id, {"fundings": fundings, "updated_at": now_iso()})
            return doc | {"fundings": fundings}, True

        doc, new = self.documents.transaction(reserve)
        if new:
            doc = self._transfer(account_id, doc, amount, idempotency_key)
        return self._view(account_id, doc)

    def get_account(self, owner_uid: str, account_id: str) -> BrokerAccount:
        """The caller's account with Alpaca's cash and positions; NotFoundError otherwise."""
        doc = _owned(self.documents.get(BROKER_ACCOUNTS, account_id), owner_uid, account_id)
        return self._view(account_id, doc)

    def account_for_agent(self, owner_uid: str, agent_id: str) -> BrokerAccount | None:
        """The agent's account, or None."""
        doc = self.documents.get(BROKER_ACCOUNTS, account_id_for(agent_id))
        if doc is None or doc.get("owner_uid") != owner_uid:
            return None
        return self._view(account_id_for(agent_id), doc)

    def _transfer(self, account_id: str, doc: dict[str, Any], amount: float, key: str) -> dict[str, Any]:
        alpaca_id = doc["alpaca_account_id"]
        try:
            relationship = doc.get("ach_relationship_id") or str(_call(lambda: self.client.create_ach_relationship_for_account(
                alpaca_id, CreateACHRelationshipRequest(
                    account_owner_name="Farm Agent", bank_account_type=BankAccountType.CHECKING,
                    bank_account_number="32131231abc", bank_routing_number="121000358", nickname="farm"),
            )).id)
            transfer = _call(lambda: self.client.create_transfer_for_account(alpaca_id, CreateACHTransferRequest(
                amount=f"{amount:.2f}", direction=TransferDirection.INCOMING, timing=TransferTiming.IMMEDIATE,
                relationship_id=relationship)))
        except FarmError:
            def release(txn: Transaction) -> None:
                current = txn.get(BROKER_ACCOUNTS, account_id) or {}
                fundings = {k: v for k, v in current.get("fundings", {}).items() if k != key}
                txn.update(BROKER_ACCOUNTS, account_id, {"fundings": fundings})
            self.documents.transaction(release)  # nothing moved: a retry with the same key may fund
            raise

        def record(txn: Transaction) -> dict[str, Any]:
            current = txn.get(BROKER_ACCOUNTS, account_id) or doc
            changes = {"fundings": {**current.get("fundings", {}), key: str(transfer.id)},
                       "funded_total": float(current.get("funded_total", 0.0)) + amount,
                       "ach_relationship_id": relationship, "status": "funded", "updated_at": now_iso()}
            txn.update(BROKER_ACCOUNTS, account_id, changes)
            return current | changes

        return self.documents.transaction(record)

    def _view(self, account_id: str, doc: dict[str, Any]) -> BrokerAccount:
        alpaca_id = doc.get("alpaca_account_id")
        if not alpaca_id:
            return _plain(account_id, doc)  # being opened by a concurrent request
        trade = _call(lambda: self.client.get_trade_account_by_id(alpaca_id))
        held = _call(lambda: self.client.get_all_positions_for_account(alpaca_id))
        positions = tuple(
            Holding(canonical_symbol(p.symbol, str(p.asset_class.value) if p.asset_class else None),
                    float(p.qty) * (1 if str(p.side.value) == "long" else -1), float(p.avg_entry_price))
            for p in held
        )
        return BrokerAccount(
            account_id=account_id, owner_uid=doc["owner_uid"], agent_id=doc["agent_id"], provider="alpaca",
            status=doc["status"], cash=float(trade.cash or 0.0),
            funded_total=float(doc.get("funded_total", 0.0)), positions=positions,
        )


def _plain(account_id: str, doc: dict[str, Any]) -> BrokerAccount:
    return BrokerAccount(account_id=account_id, owner_uid=doc["owner_uid"], agent_id=doc["agent_id"],
                         provider="alpaca", status=doc["status"], cash=0.0,
                         funded_total=float(doc.get("funded_total", 0.0)))


def _owned(doc: dict[str, Any] | None, owner_uid: str, account_id: str) -> dict[str, Any]:
    if doc is None or doc.get("owner_uid") != owner_uid or doc.get("provider") != "alpaca":
        raise NotFoundError(f"broker account {account_id} not found")
    return doc


def _call(fn: Callable[[], T]) -> T:
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


def _sandbox_profile(agent_id: str) -> CreateAccountRequest:
    # The sandbox approves synthetic KYC data; the account belongs to the platform, per agent.
    signed = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return CreateAccountRequest(
        contact=Contact(email_address=f"agent-{agent_id}@farm.invalid", phone_number="555-666-7788",
                        street_address=["20 N San Mateo Dr"], city="San Mateo", state="CA",
                        postal_code="94401", country="USA"),
        identity=Identity(given_name="Farm", family_name=f"Agent {agent_id}"[:50], date_of_birth="1990-01-01",
                          tax_id="666-55-4321", tax_id_type=TaxIdType.USA_SSN, country_of_citizenship="USA",
                          country_of_birth="USA", country_of_tax_residence="USA",
                          funding_source=[FundingSource.EMPLOYMENT_INCOME]),
        disclosures=Disclosures(is_control_person=False, is_affiliated_exchange_or_finra=False,
                                is_politically_exposed=False, immediate_family_exposed=False,
                                employment_status=EmploymentStatus.EMPLOYED),
        agreements=[Agreement(agreement=kind, signed_at=signed, ip_address="127.0.0.1")
                    for kind in (AgreementType.CUSTOMER, AgreementType.ACCOUNT, AgreementType.MARGIN)],
    )
