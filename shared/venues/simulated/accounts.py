"""SimulatedAccounts: paper accounts of the simulated venue, kept in the documents port.

One account per agent (`broker_accounts/sim-<agent_id>`), so opening is idempotent. Funding and
the runtime's `SimulatedBroker` both go through the `BrokerAccount` aggregate inside a
transaction: funding adds to the cash it reads, the broker adds what its fills moved, so a
funding made while a session trades survives the broker's next write.
"""

from __future__ import annotations

from shared.domain.broker_account import BrokerAccount, Provider, account_id_for
from shared.domain.clock import now_iso
from shared.domain.money import DEFAULT_CASH
from shared.domain.unit_of_work import UnitOfWork, read_only, run_in_transaction
from shared.ports.broker import BrokerAccount as AccountView
from shared.ports.documents import DocumentStore

PROVIDER: Provider = "simulated"


class SimulatedAccounts:
    """`BrokerAccounts` over the documents port, for the embedded default."""

    def __init__(self, documents: DocumentStore) -> None:
        self.documents = documents

    def close(self) -> None:
        """Nothing to release: the accounts are documents."""

    def create_account(self, owner_uid: str, agent_id: str) -> AccountView:
        """Create the agent's account with no cash, or return the one it has."""

        def create(uow: UnitOfWork) -> BrokerAccount:
            account_id = account_id_for(PROVIDER, agent_id)
            if uow.accounts.get(account_id) is not None:
                return uow.accounts.of_provider(account_id, owner_uid, PROVIDER)
            account = BrokerAccount.opened(PROVIDER, owner_uid=owner_uid, agent_id=agent_id, at=now_iso())
            uow.accounts.add(account)
            return account

        return run_in_transaction(self.documents, create).view()

    def fund(self, owner_uid: str, account_id: str, amount: float = DEFAULT_CASH, *,
             idempotency_key: str) -> AccountView:
        """Add `amount` once per `idempotency_key` (a repeated key changes nothing)."""

        def fund(uow: UnitOfWork) -> BrokerAccount:
            account = uow.accounts.of_provider(account_id, owner_uid, PROVIDER)
            if account.fund(amount, key=idempotency_key, at=now_iso()):
                uow.accounts.save(account)
            return account

        return run_in_transaction(self.documents, fund).view()

    def get_account(self, owner_uid: str, account_id: str) -> AccountView:
        """The caller's account; NotFoundError otherwise."""
        return read_only(self.documents).accounts.of_provider(account_id, owner_uid, PROVIDER).view()

    def account_for_agent(self, owner_uid: str, agent_id: str) -> AccountView | None:
        """The agent's account, or None."""

        found = read_only(self.documents).accounts.get(account_id_for(PROVIDER, agent_id))
        return found.view() if found is not None and found.visible_to(owner_uid) else None
