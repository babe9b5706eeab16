import pytest

from shared.domain.agent import Agent
from shared.domain.lifecycle import (
    HISTORY_LIMIT,
    TRANSITIONS,
    AgentStatus,
    can_transition,
    history_entry,
    with_entry,
)
from shared.errors import IllegalTransitionError

S = AgentStatus


def test_the_happy_path_from_submission_to_stopped_is_legal():
    path = [S.SUBMITTED, S.VALIDATING, S.STORED, S.BACKTESTING, S.BACKTESTED, S.DEPLOYING,
            S.TRADING, S.PAUSED, S.TRADING, S.STOPPING, S.STOPPED]
    agent = Agent(agent_id="a", owner_uid="u", status=path[0])
    for step, target in enumerate(path[1:]):
        agent.move_to(target, at=f"2026-01-01T00:00:{step:02d}Z")
    assert agent.to_document()["status"] == "stopped"
    assert [h["to"] for h in agent.history] == [s.value for s in path[1:]]


def test_an_illegal_transition_is_an_error_naming_both_states():
    with pytest.raises(IllegalTransitionError, match="stored to trading"):
        history_entry(S.STORED, S.TRADING, at="t")


def test_a_rejected_agent_is_terminal():
    assert TRANSITIONS[S.REJECTED] == frozenset()


def test_a_failed_backtest_can_be_retried_but_not_traded():
    assert can_transition(S.BACKTEST_FAILED, S.BACKTESTING)
    assert not can_transition(S.BACKTEST_FAILED, S.DEPLOYING)


def test_failed_is_reachable_only_from_deploying_or_trading():
    sources = {s for s, targets in TRANSITIONS.items() if S.FAILED in targets}
    assert sources == {S.DEPLOYING, S.TRADING}


def test_history_records_reason_and_time():
    agent = Agent(agent_id="a", owner_uid="u", status=S.BACKTESTING)
    agent.move_to(S.BACKTEST_FAILED, at="t1", reason="ZeroDivisionError")
    assert agent.history == [
        {"from": "backtesting", "to": "backtest_failed", "at": "t1", "reason": "ZeroDivisionError"}
    ]
    assert agent.updated_at == "t1"


def test_history_keeps_only_the_latest_entries():
    history: list[dict] = []
    for i in range(HISTORY_LIMIT + 5):
        history = with_entry(history, {"at": str(i)})
    assert len(history) == HISTORY_LIMIT and history[0] == {"at": "5"}


def test_every_state_has_an_entry_in_the_transition_table():
    assert set(TRANSITIONS) == set(AgentStatus)
