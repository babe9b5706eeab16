"""The agent aggregate: one user's trading program, its lifecycle (SPEC §5) and what it earned.

`Agent` is the only writer of the agent document's status, history, deletion and backtest
summaries. It models the fields the platform's rules read and keeps every other field as it was
stored, so `to_document()` returns a loaded document unchanged until a method changes it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from shared.domain.aggregate import OwnedRepository
from shared.domain.lifecycle import (
    TRADING_STATES,
    AgentStatus,
    can_transition,
    history_entry,
    with_entry,
)
from shared.domain.stored_fields import NOT_STORED, join_document, split_document
from shared.errors import ConflictError, InvalidInputError, NotFoundError
from shared.schemas.collections import AGENTS

# Ids are ours (uuid4 hex); anything else cannot name an agent and must not reach the store.
AGENT_ID = re.compile(r"[0-9a-f]{32}")
# Not validated yet, or refused: nothing to backtest.
UNBACKTESTABLE = frozenset({AgentStatus.SUBMITTED, AgentStatus.VALIDATING, AgentStatus.REJECTED})
# Without a passed backtest: a run moves the agent (to `backtesting`, then on with the result).
UNPROVEN = frozenset({AgentStatus.STORED, AgentStatus.BACKTEST_FAILED})
SUCCEEDED = "succeeded"  # the run status a backtest summary calls a pass (shared.domain.backtest_run)


def check_agent_id(agent_id: str) -> None:
    """NotFoundError, worded as for a missing agent, when `agent_id` cannot be one of our ids."""
    if not AGENT_ID.fullmatch(agent_id):
        raise NotFoundError(f"{AgentRepository.kind} {agent_id[:80]} not found")


@dataclass(eq=False, kw_only=True)
class Agent:
    """An agent document as a typed object; build it with `submitted` or `from_document`."""

    agent_id: str
    owner_uid: str
    status: AgentStatus
    name: str = "agent"
    description: str = ""
    tags: list[str] = field(default_factory=list)
    code_hash: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    latest_backtest: dict[str, Any] | None = None
    standard_backtest: dict[str, Any] | None = None
    backtesting_run: str | None = None  # the run that moved the agent to `backtesting`
    paper_session: str | None = None
    deleted: bool = False
    deleted_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    # Stored fields this class does not model (files, validation, bundle_key, ...), kept as they are.
    extra: dict[str, Any] = field(default_factory=dict)
    # Modelled fields the stored document did not hold: left out again while they keep their default.
    absent: frozenset[str] = field(default=frozenset(), repr=False)

    _NOT_STORED: ClassVar[frozenset[str]] = NOT_STORED | {"agent_id"}

    @classmethod
    def received(
        cls, agent_id: str, *, owner_uid: str, at: str, described: Mapping[str, Any],
        code_hash: str, extra: Mapping[str, Any],
    ) -> Agent:
        """A just-submitted agent, before its checks (status `submitted`, one history entry).

        `described` holds name, description and tags; `extra` the bundle and validation fields.
        """
        return cls(agent_id=agent_id, owner_uid=owner_uid, status=AgentStatus.SUBMITTED,
                   name=described.get("name", "agent"), description=described.get("description", ""),
                   tags=list(described.get("tags", [])), code_hash=code_hash,
                   history=[{"from": None, "to": AgentStatus.SUBMITTED.value, "at": at}],
                   created_at=at, updated_at=at, extra=dict(extra),
                   absent=frozenset({"standard_backtest", "backtesting_run"}))

    @classmethod
    def submitted(
        cls, agent_id: str, *, owner_uid: str, at: str, described: Mapping[str, Any],
        code_hash: str, extra: Mapping[str, Any],
    ) -> Agent:
        """A newly submitted agent whose checks passed: submitted -> validating -> stored."""
        agent = cls.received(agent_id, owner_uid=owner_uid, at=at, described=described, code_hash=code_hash,
                             extra=extra)
        agent.move_to(AgentStatus.VALIDATING, at=at)
        agent.move_to(AgentStatus.STORED, at=at)
        return agent

    @classmethod
    def from_document(cls, agent_id: str, document: Mapping[str, Any]) -> Agent:
        """The agent stored under `agent_id`; InvalidInputError when the document is malformed."""
        values, extra, absent = split_document(cls, document, not_stored=cls._NOT_STORED)
        try:
            values["status"] = AgentStatus(document["status"])
            if not isinstance(document["owner_uid"], str):
                raise TypeError("owner_uid is not a string")
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"agent {agent_id} document is malformed: {exc!r}") from exc
        values["history"] = list(values.get("history") or [])
        values["tags"] = list(values.get("tags") or [])
        return cls(agent_id=agent_id, **values, extra=extra, absent=absent)

    @property
    def id(self) -> str:
        return self.agent_id

    def to_document(self) -> dict[str, Any]:
        """The document as stored: unknown fields kept, absent fields left out while unset."""
        return join_document(self, not_stored=self._NOT_STORED)

    def visible_to(self, uid: str) -> bool:
        """Whether `uid` may see it: its owner, and only while it is not deleted."""
        return self.owner_uid == uid and not self.deleted

    def move_to(self, target: AgentStatus, *, at: str, reason: str | None = None) -> None:
        """Move to `target` with a history entry; IllegalTransitionError when the lifecycle forbids it."""
        self.history = with_entry(self.history, history_entry(self.status, target, at=at, reason=reason))
        self.status = target
        self.updated_at = at

    @property
    def is_trading(self) -> bool:
        """Deploying, trading or paused: a runtime exists or is being started for it."""
        return self.status in TRADING_STATES

    def delete(self, *, at: str) -> bool:
        """Soft-delete (everything is kept); True when a runtime must be stopped for it."""
        stop = self.is_trading
        if stop:
            self.move_to(AgentStatus.STOPPING, at=at, reason="agent deleted")
        self.deleted, self.deleted_at, self.updated_at = True, at, at
        return stop

    def check_backtestable(self) -> None:
        """ConflictError unless the agent passed validation (only those can be backtested)."""
        if self.status in UNBACKTESTABLE:
            raise ConflictError(f"agent {self.agent_id} is {self.status.value}: it cannot be backtested")

    def backtest_started(self, run_id: str, *, at: str) -> None:
        """A run of this agent started: one without a passed backtest goes to `backtesting`.

        A backtested, trading, paused or stopped agent keeps its state, so a backtest never
        blocks paper trading and paper trading never blocks a backtest.
        """
        if self.status in UNPROVEN and can_transition(self.status, AgentStatus.BACKTESTING):
            self.move_to(AgentStatus.BACKTESTING, at=at, reason=run_id)
            self.backtesting_run = run_id

    def backtest_finished(self, summary: Mapping[str, Any], *, standard: bool, at: str) -> None:
        """Record a finished run's summary (`run_id`, `status`, ...) and move on from `backtesting`.

        The run that moved the agent to `backtesting` decides where it goes; another run that
        passes meanwhile proves the agent too, one that fails does not fail it.
        """
        self.latest_backtest = dict(summary)
        if standard:
            self.standard_backtest = dict(summary)
        self.updated_at = at
        passed = summary.get("status") == SUCCEEDED
        mover = self.backtesting_run
        if self.status is AgentStatus.BACKTESTING and (mover in (None, summary.get("run_id")) or passed):
            target = AgentStatus.BACKTESTED if passed else AgentStatus.BACKTEST_FAILED
            self.move_to(target, at=at, reason=summary.get("run_id"))
            self.backtesting_run = None


class AgentRepository(OwnedRepository[Agent]):
    """Agents in the `agents` collection; `owned(agent_id, uid)` is the one ownership check."""

    collection = AGENTS
    kind = "agent"

    def load(self, doc_id: str, document: dict[str, Any]) -> Agent:
        return Agent.from_document(doc_id, document)

    def owned_or_deleted(self, agent_id: str, uid: str) -> Agent:
        """The caller's agent even when deleted (its FMEL history stays readable); NotFoundError otherwise."""
        found = self.get(agent_id)
        if found is None or found.owner_uid != uid:
            raise NotFoundError(f"{self.kind} {agent_id} not found")
        return found
