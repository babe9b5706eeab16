"""Agent use cases (SPEC §4, §5, §6): submit, list, get and soft-delete a user's agents.

Each use case takes the ports it needs and a small command, loads the `Agent` in a unit of
work and calls one of its methods; someone else's agent is reported exactly like a missing one
(NotFoundError from the repository's one ownership check, never a 403).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.domain.agent import AGENT_ID, Agent, check_agent_id
from shared.domain.clock import now_iso
from shared.domain.unit_of_work import UnitOfWork, read_only, run_in_transaction
from shared.errors import ConflictError
from shared.ports.blobs import BlobStore
from shared.ports.documents import DocumentStore
from shared.services.agent_fields import AgentFields
from shared.services.agent_pages import AgentPage, ListAgents, agent_detail, list_agents
from shared.validation import validate_submission

__all__ = [
    "AGENT_ID", "AgentFields", "AgentPage", "DeleteAgent", "DeletedAgent", "ListAgents", "SubmitAgent",
    "SubmittedAgent", "agent_detail", "delete_agent", "get_agent", "list_agents", "submit_agent",
]

# One lock document per (user, code): created in the same transaction as the agent, so two
# concurrent identical submissions cannot both succeed (SPEC §4: duplicate code -> 409).
CODE_LOCKS = "agent-code-locks"


@dataclass(frozen=True, kw_only=True)
class SubmitAgent:
    """Submit one agent: an uploaded .py file or .zip bundle, plus what describes it."""

    owner_uid: str
    upload: bytes
    filename: str = "agent.py"
    requirements: bytes | None = None
    fields: AgentFields = field(default_factory=AgentFields)


@dataclass(frozen=True)
class SubmittedAgent:
    """The stored agent's id and status."""

    agent_id: str
    status: str


@dataclass(frozen=True)
class DeleteAgent:
    """Soft-delete one of the caller's agents."""

    owner_uid: str
    agent_id: str


@dataclass(frozen=True)
class DeletedAgent:
    """What a delete did; `stop_runtime` is the seam for the runtime-stop trigger (SPEC §4)."""

    agent_id: str
    status: str
    stop_runtime: bool


def bundle_key(owner_uid: str, agent_id: str) -> str:
    """Where an agent's bundle is stored (SPEC §11)."""
    return f"agents/{owner_uid}/{agent_id}/bundle.zip"


def submit_agent(
    cmd: SubmitAgent,
    *,
    documents: DocumentStore,
    blobs: BlobStore,
    clock: Callable[[], str] = now_iso,
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
) -> SubmittedAgent:
    """Validate, store the bundle and create the agent document in status `stored`.

    ValidationFailedError (422) carries the full report; ConflictError (409) when the same
    user already has an agent with this code.
    """
    report = validate_submission(cmd.upload, filename=cmd.filename, requirements=cmd.requirements)
    report.raise_if_failed()
    assert report.bundle is not None and report.code_hash is not None  # ok implies both
    lock_id = _lock_id(cmd.owner_uid, report.code_hash)
    _check_not_duplicate(read_only(documents), lock_id, cmd.owner_uid)  # before storing a bundle
    agent_id, at = new_id(), clock()
    key = bundle_key(cmd.owner_uid, agent_id)
    bundle = report.bundle.to_zip()
    blobs.put(key, bundle, content_type="application/zip", if_absent=True)
    checked = report.to_dict()
    agent = Agent.submitted(
        agent_id, owner_uid=cmd.owner_uid, at=at, described=cmd.fields.to_document(), code_hash=checked["code_hash"],
        extra={"files": checked["files"], "bundle_key": key, "bundle_bytes": len(bundle), "validation": checked},
    )

    def create(uow: UnitOfWork) -> None:
        _check_not_duplicate(uow, lock_id, cmd.owner_uid)
        uow.agents.add(agent)
        uow.txn.set(CODE_LOCKS, lock_id, {"owner_uid": cmd.owner_uid, "agent_id": agent_id,
                                          "created_at": at, "updated_at": at})

    try:
        run_in_transaction(documents, create)
    except BaseException:
        blobs.delete(key)  # nothing points at it; do not leave an orphan bundle behind
        raise
    return SubmittedAgent(agent_id, agent.status.value)


def get_agent(documents: DocumentStore, owner_uid: str, agent_id: str) -> dict[str, Any]:
    """Return the caller's agent document; NotFoundError when missing, deleted or not theirs."""
    check_agent_id(agent_id)
    return read_only(documents).agents.owned(agent_id, owner_uid).to_document()


def delete_agent(
    cmd: DeleteAgent, *, documents: DocumentStore, clock: Callable[[], str] = now_iso
) -> DeletedAgent:
    """Soft-delete: mark `deleted`, stop a trading agent, keep everything else (FMEL too)."""
    check_agent_id(cmd.agent_id)

    def mark(uow: UnitOfWork) -> DeletedAgent:
        agent = uow.agents.owned(cmd.agent_id, cmd.owner_uid)
        lock_id = _lock_id(cmd.owner_uid, str(agent.code_hash))
        lock = uow.txn.get(CODE_LOCKS, lock_id)
        stop = agent.delete(at=clock())
        uow.agents.save(agent)
        if lock is not None and lock.get("agent_id") == cmd.agent_id:
            uow.txn.delete(CODE_LOCKS, lock_id)  # the same code may be submitted again
        return DeletedAgent(cmd.agent_id, agent.status.value, stop)

    return run_in_transaction(documents, mark)


def _check_not_duplicate(uow: UnitOfWork, lock_id: str, owner_uid: str) -> None:
    lock = uow.txn.get(CODE_LOCKS, lock_id)
    if lock is None:
        return
    existing = uow.agents.get(lock["agent_id"])
    if existing is not None and existing.visible_to(owner_uid):
        name = existing.name or lock["agent_id"]
        raise ConflictError(
            f"you already submitted this code as agent {name!r} ({lock['agent_id']})",
            details={"agent_id": lock["agent_id"], "name": name},
        )


def _lock_id(owner_uid: str, code_hash: str) -> str:
    # Hashed: uids may hold characters a document id cannot.
    return hashlib.sha256(f"{owner_uid}\x00{code_hash}".encode()).hexdigest()
