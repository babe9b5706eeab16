"""The BrokerAccount aggregate: one default cash, idempotent funding, trading settled as increments, ownership."""

from __future__ import annotations

import pytest

from shared.adapters.memory.documents import MemoryDocumentStore
from shared.domain.broker_account import BrokerAccount, account_id_for, check_funding
from shared.domain.money import DEFAULT_CASH
from shared.domain.unit_of_work import UnitOfWork, run_in_transaction
from shared.errors import InvalidInputError, NotFoundError, TransientError
from shared.ports.broker import BROKER_ACCOUNTS, DEFAULT_FUNDING

AT = "2026-12-04T00:00:00.000000Z"


def opened(provider: str = "simulated") -> BrokerAccount:
    return BrokerAccount.opened(provider, owner_uid="alice", agent_id="agent-1", at=AT)  # type: ignore[arg-type]


def test_a_first_funding_defaults_to_the_platforms_one_default_cash() -> None:
    account = opened()
    assert DEFAULT_FUNDING == DEFAULT_CASH
    assert account.fund(key="k1", at=AT) is True
    assert (account.cash, account.funded_total, account.status) == (DEFAULT_CASH, DEFAULT_CASH, "funded")


def test_a_repeated_idempotency_key_funds_once() -> None:
    account = opened()
    account.fund(1_000.0, key="k1", at=AT)
    assert account.fund(1_000.0, key="k1", at=AT) is False
    assert (account.cash, account.funded_total, account.fundings) == (1_000.0, 1_000.0, {"k1": 1_000.0})


@pytest.mark.parametrize(("amount", "key", "message"), [
    (0, "k", "amount must be > 0"), (-5, "k", "amount must be > 0"), (2_000_000, "k", "<= 1,000,000"),
    (True, "k", "must be a number"), (float("nan"), "k", "must be a number"), (10, "", "Idempotency-Key"),
    (10, "x" * 201, "longer than 200"),
])
def test_bad_fundings_are_refused_with_a_clear_message(amount: object, key: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        check_funding(amount, key)
    with pytest.raises(InvalidInputError, match=message):
        opened().fund(amount, key=key, at=AT)  # type: ignore[arg-type]


def test_trading_moves_cash_by_an_increment_so_a_funding_in_between_is_kept() -> None:
    account = opened()
    account.fund(10_000.0, key="start", at=AT)
    account.fund(5_000.0, key="top-up", at=AT)  # made while the broker held cash 10,000 - fills
    account.settle_trading(-1_000.0, positions={"AAPL": {"size": 10.0, "price": 100.0}},
                           recent_trades=[], trades=1, open_orders=[])
    assert account.cash == 14_000.0 and account.funded_total == 15_000.0
    assert account.view().positions[0].symbol == "AAPL"


def test_an_alpaca_funding_is_reserved_then_recorded_or_released() -> None:
    account = opened("alpaca")
    with pytest.raises(TransientError, match="still being opened"):
        account.reserve_funding("k1", at=AT)
    account.attach_alpaca("4f1c0c52-0000-4000-8000-000000000001", at=AT)
    assert account.reserve_funding("k1", at=AT) is True and account.reserve_funding("k1", at=AT) is False
    account.release_funding("k1")
    assert account.reserve_funding("k1", at=AT) is True
    account.record_transfer("k1", 2_500.0, transfer_id="t-1", relationship_id="r-1", at=AT)
    assert (account.fundings, account.funded_total, account.status) == ({"k1": "t-1"}, 2_500.0, "funded")
    assert account.cash == 0.0  # Alpaca holds the money; the view reads it from there
    assert account.view(cash=2_500.0, positions=()).cash == 2_500.0


def test_the_document_round_trips_with_unknown_fields_kept_and_only_changes_written() -> None:
    documents = MemoryDocumentStore()
    account_id = account_id_for("simulated", "agent-1")
    run_in_transaction(documents, lambda uow: uow.accounts.add(opened()))
    documents.update(BROKER_ACCOUNTS, account_id, {"note": "written by a newer version"})

    def fund(uow: UnitOfWork) -> None:
        account = uow.accounts.owned(account_id, "alice")
        account.fund(100.0, key="k", at=AT)
        uow.accounts.save(account)

    run_in_transaction(documents, fund)
    stored = documents.get(BROKER_ACCOUNTS, account_id)
    assert stored["note"] == "written by a newer version" and stored["cash"] == 100.0
    assert "open_orders" not in stored  # never written while at its default


def test_someone_elses_or_another_venues_account_is_reported_as_missing() -> None:
    documents = MemoryDocumentStore()
    run_in_transaction(documents, lambda uow: uow.accounts.add(opened()))
    account_id = account_id_for("simulated", "agent-1")
    for uid, provider in (("mallory", "simulated"), ("alice", "alpaca")):
        with pytest.raises(NotFoundError, match=f"broker account {account_id} not found"):
            run_in_transaction(documents, lambda uow, u=uid, p=provider: uow.accounts.of_provider(account_id, u, p))
