"""AlpacaBrokerAccounts: agents' paper accounts in Alpaca's Broker API sandbox (alpaca-py).

The platform's own record of each account (owner, agent, Alpaca's account id, fundings by
idempotency key) is the `BrokerAccount` aggregate under `broker_accounts/alpaca-<agent_id>`;
balances and positions are read from Alpaca. The API's account id is that document id, so no
Alpaca id is ever needed by a caller and ownership is checked on our record before Alpaca is
asked anything. Funding is an instant ACH transfer in the sandbox over one ACH relationship
per account. The runtime trades the same Alpaca account (`execution.AlpacaBroker`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import cast
from uuid import UUID

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
from alpaca.broker.models import (
    Account,
    ACHRelationship,
    Agreement,
    Contact,
    Disclosures,
    Identity,
    TradeAccount,
    Transfer,
)
from alpaca.broker.requests import (
    CreateAccountRequest,
    CreateACHRelationshipRequest,
    CreateACHTransferRequest,
)
from alpaca.trading.models import Position

from shared.domain.broker_account import BrokerAccount, Provider, account_id_for, check_funding
from shared.domain.clock import now_iso
from shared.domain.money import DEFAULT_CASH
from shared.domain.unit_of_work import UnitOfWork, read_only, run_in_transaction
from shared.errors import ConflictError, FarmError
from shared.ports.broker import BrokerAccount as AccountView
from shared.ports.broker import Holding
from shared.ports.documents import DocumentStore
from shared.venues.alpaca.broker_api import broker_client, call
from shared.venues.alpaca.config import BrokerApiConfig, canonical_symbol

log = logging.getLogger(__name__)
PROVIDER: Provider = "alpaca"


class AlpacaBrokerAccounts:
    """`BrokerAccounts` over Alpaca's Broker API (sandbox) plus the documents port."""

    def __init__(self, documents: DocumentStore, config: BrokerApiConfig) -> None:
        self.documents = documents
        self.config = config
        self._client: BrokerClient | None = None

    @classmethod
    def from_env(cls, documents: DocumentStore) -> AlpacaBrokerAccounts:
        """Build with the Broker API keys (and optional URL) from the environment."""
        return cls(documents, BrokerApiConfig.from_env())

    @property
    def client(self) -> BrokerClient:
        """The Broker API client, created on first use."""
        if self._client is None:
            self._client = broker_client(self.config)
        return self._client

    def close(self) -> None:
        """Nothing to release: the Broker API client holds no open connection between calls."""

    def create_account(self, owner_uid: str, agent_id: str) -> AccountView:
        """Open the agent's sandbox account once; later calls return the same one."""
        account_id = account_id_for(PROVIDER, agent_id)

        def reserve(uow: UnitOfWork) -> tuple[BrokerAccount, bool]:
            if uow.accounts.get(account_id) is not None:
                return uow.accounts.of_provider(account_id, owner_uid, PROVIDER), False
            account = BrokerAccount.opened(PROVIDER, owner_uid=owner_uid, agent_id=agent_id, at=now_iso())
            uow.accounts.add(account)
            return account, True

        account, new = run_in_transaction(self.documents, reserve)
        if new:
            try:
                opened = cast(Account, call(lambda: self.client.create_account(_sandbox_profile(agent_id))))
            except FarmError:
                run_in_transaction(self.documents, lambda uow: uow.accounts.remove(uow.accounts.require(account_id)))
                raise  # the reservation is gone: a retry opens the account

            def attach(uow: UnitOfWork) -> BrokerAccount:
                stored = uow.accounts.require(account_id)
                stored.attach_alpaca(str(opened.id), at=now_iso())
                uow.accounts.save(stored)
                return stored

            account = run_in_transaction(self.documents, attach)
        return self._view(account)

    def fund(self, owner_uid: str, account_id: str, amount: float = DEFAULT_CASH, *,
             idempotency_key: str) -> AccountView:
        """Transfer `amount` in once per `idempotency_key`; a repeated key changes nothing."""
        amount, key = check_funding(amount, idempotency_key)

        def reserve(uow: UnitOfWork) -> tuple[BrokerAccount, bool]:
            account = uow.accounts.of_provider(account_id, owner_uid, PROVIDER)
            new = account.reserve_funding(key, at=now_iso())
            if new:
                uow.accounts.save(account)
            return account, new

        account, new = run_in_transaction(self.documents, reserve)
        if new:
            account = self._transfer(account, amount, key)
        return self._view(account)

    def get_account(self, owner_uid: str, account_id: str) -> AccountView:
        """The caller's account with Alpaca's cash and positions; NotFoundError otherwise."""
        return self._view(read_only(self.documents).accounts.of_provider(account_id, owner_uid, PROVIDER))

    def account_for_agent(self, owner_uid: str, agent_id: str) -> AccountView | None:
        """The agent's account, or None."""

        found = read_only(self.documents).accounts.get(account_id_for(PROVIDER, agent_id))
        return self._view(found) if found is not None and found.visible_to(owner_uid) else None

    def _transfer(self, account: BrokerAccount, amount: float, key: str) -> BrokerAccount:
        alpaca_id = account.alpaca_account_id or ""  # reserve_funding made sure it is set
        try:
            relationship = account.extra.get("ach_relationship_id") or str(cast(ACHRelationship, call(
                lambda: self.client.create_ach_relationship_for_account(alpaca_id, CreateACHRelationshipRequest(
                    account_owner_name="Farm Agent", bank_account_type=BankAccountType.CHECKING,
                    bank_account_number="32131231abc", bank_routing_number="121000358", nickname="farm"),
                ))).id)
            transfer = cast(Transfer, call(lambda: self.client.create_transfer_for_account(
                alpaca_id, CreateACHTransferRequest(
                    amount=f"{amount:.2f}", direction=TransferDirection.INCOMING, timing=TransferTiming.IMMEDIATE,
                    relationship_id=UUID(relationship)))))
        except FarmError:
            def release(uow: UnitOfWork) -> None:
                stored = uow.accounts.require(account.id)
                stored.release_funding(key)
                uow.accounts.save(stored)

            run_in_transaction(self.documents, release)  # nothing moved: a retry with the same key may fund
            raise

        def record(uow: UnitOfWork) -> BrokerAccount:
            stored = uow.accounts.require(account.id)
            stored.record_transfer(key, amount, transfer_id=str(transfer.id), relationship_id=relationship,
                                   at=now_iso())
            uow.accounts.save(stored)
            return stored

        return run_in_transaction(self.documents, record)

    def _view(self, account: BrokerAccount) -> AccountView:
        alpaca_id = account.alpaca_account_id
        if not alpaca_id:
            return account.view(cash=0.0, positions=())  # being opened by a concurrent request
        trade = cast(TradeAccount, call(lambda: self.client.get_trade_account_by_id(alpaca_id)))
        held = cast(list[Position], call(lambda: self.client.get_all_positions_for_account(alpaca_id)))
        positions = tuple(
            Holding(canonical_symbol(p.symbol, str(p.asset_class.value) if p.asset_class else None),
                    float(p.qty) * (1 if str(p.side.value) == "long" else -1), float(p.avg_entry_price))
            for p in held
        )
        return account.view(cash=float(trade.cash or 0.0), positions=positions)


def alpaca_account_of(documents: DocumentStore, account_id: str) -> str:
    """Alpaca's id of the platform account `account_id`, which a paper session trades.

    The session's account is fixed when it starts (`PaperSession`); this only resolves it, and
    refuses an account that is not an opened Alpaca account rather than trade any other one.
    """
    account = read_only(documents).accounts.require(account_id)
    if account.provider != PROVIDER or not account.alpaca_account_id:
        raise ConflictError(f"broker account {account_id} is not an opened Alpaca account")
    return account.alpaca_account_id


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
