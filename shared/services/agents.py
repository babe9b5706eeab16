"""Agent use cases (SPEC §4, §5, §6): submit, list, get and soft-delete a user's agents.

Each use case takes the ports it needs and a small command; ownership is checked here, and
someone else's agent is reported exactly like a missing one (NotFoundError, never a 403).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.domain.clock import now_iso
from shared.domain.lifecycle import TRADING_STATES, AgentStatus, transition
from shared.errors import ConflictError, NotFoundError
from shared.ports.blobs import BlobStore
from shared.ports.documents import DocumentStore, Transaction
from shared.schemas.collections import AGENTS
from shared.services.agent_fields import AgentFields
from shared.services.agent_pages import AgentPage, ListAgents, agent_detail, list_agents
from shared.validation import validate_submission

__all__ = [
    "AgentFields", "AgentPage", "DeleteAgent", "DeletedAgent", "ListAgents", "SubmitAgent",
    "SubmittedAgent", "agent_detail", "delete_agent", "get_agent", "list_agents", "submit_agent",
]

# One lock document per (user, code): created in the same transaction as the agent, so two
# concurrent identical submissions cannot both succeed (SPEC §4: duplicate code -> 409).
CODE_LOCKS = "agent-code-locks"
AGENT_ID = re.compile(r"[0-9a-f]{32}")


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
    _check_not_duplicate(documents.get(CODE_LOCKS, lock_id), documents.get, cmd.owner_uid)
    agent_id, at = new_id(), clock()
    key = bundle_key(cmd.owner_uid, agent_id)
    bundle = report.bundle.to_zip()
    blobs.put(key, bundle, content_type="application/zip", if_absent=True)
    agent = _new_agent(cmd, report.to_dict(), key, len(bundle), at)

    def create(txn: Transaction) -> None:
        _check_not_duplicate(txn.get(CODE_LOCKS, lock_id), txn.get, cmd.owner_uid)
        txn.create(AGENTS, agent_id, agent)
        txn.set(CODE_LOCKS, lock_id, {"owner_uid": cmd.owner_uid, "agent_id": agent_id,
                                      "created_at": at, "updated_at": at})

    try:
        documents.transaction(create)
    except BaseException:
        blobs.delete(key)  # nothing points at it; do not leave an orphan bundle behind
        raise
    return SubmittedAgent(agent_id, agent["status"])


def get_agent(documents: DocumentStore, owner_uid: str, agent_id: str) -> dict[str, Any]:
    """Return the caller's agent document; NotFoundError when missing, deleted or not theirs."""
    _check_id(agent_id)
    return _owned(documents.get(AGENTS, agent_id), owner_uid, agent_id)


def delete_agent(
    cmd: DeleteAgent, *, documents: DocumentStore, clock: Callable[[], str] = now_iso
) -> DeletedAgent:
    """Soft-delete: mark `deleted`, stop a trading agent, keep everything else (FMEL too)."""
    _check_id(cmd.agent_id)

    def mark(txn: Transaction) -> DeletedAgent:
        agent = _owned(txn.get(AGENTS, cmd.agent_id), cmd.owner_uid, cmd.agent_id)
        lock_id = _lock_id(cmd.owner_uid, agent["code_hash"])
        lock = txn.get(CODE_LOCKS, lock_id)
        at = clock()
        changes: dict[str, Any] = {"deleted": True, "deleted_at": at, "updated_at": at}
        stop = AgentStatus(agent["status"]) in TRADING_STATES
        if stop:
            changes |= transition(agent, AgentStatus.STOPPING, at=at, reason="agent deleted")
        txn.update(AGENTS, cmd.agent_id, changes)
        if lock is not None and lock.get("agent_id") == cmd.agent_id:
            txn.delete(CODE_LOCKS, lock_id)  # the same code may be submitted again
        return DeletedAgent(cmd.agent_id, changes.get("status", agent["status"]), stop)

    return documents.transaction(mark)


def _new_agent(
    cmd: SubmitAgent, report: dict[str, Any], key: str, size: int, at: str
) -> dict[str, Any]:
    agent: dict[str, Any] = {
        "owner_uid": cmd.owner_uid,
        **cmd.fields.to_document(),
        "code_hash": report["code_hash"],
        "files": report["files"],
        "bundle_key": key,
        "bundle_bytes": size,
        "status": AgentStatus.SUBMITTED.value,
        "history": [{"from": None, "to": AgentStatus.SUBMITTED.value, "at": at}],
        "validation": report,
        "latest_backtest": None,
        "paper_session": None,
        "deleted": False,
        "deleted_at": None,
        "created_at": at,
        "updated_at": at,
    }
    for target in (AgentStatus.VALIDATING, AgentStatus.STORED):
        agent |= transition(agent, target, at=at)
    return agent


def _check_not_duplicate(
    lock: dict[str, Any] | None,
    read: Callable[[str, str], dict[str, Any] | None],
    owner_uid: str,
) -> None:
    if lock is None:
        return
    existing = read(AGENTS, lock["agent_id"])
    if existing is not None and not existing.get("deleted") and existing["owner_uid"] == owner_uid:
        name = existing.get("name") or lock["agent_id"]
        raise ConflictError(
            f"you already submitted this code as agent {name!r} ({lock['agent_id']})",
            details={"agent_id": lock["agent_id"], "name": name},
        )


def _owned(agent: dict[str, Any] | None, owner_uid: str, agent_id: str) -> dict[str, Any]:
    if agent is None or agent.get("owner_uid") != owner_uid or agent.get("deleted"):
        raise NotFoundError(f"no agent {agent_id!r}")
    return agent


def _check_id(agent_id: str) -> None:
    # Ids are ours (uuid4 hex); anything else cannot name an agent, and must not reach the store.
    if not AGENT_ID.fullmatch(agent_id):
        raise NotFoundError(f"no agent {agent_id[:80]!r}")


def _lock_id(owner_uid: str, code_hash: str) -> str:
    # Hashed: uids may hold characters a document id cannot.
    return hashlib.sha256(f"{owner_uid}\x00{code_hash}".encode()).hexdigest()
