"""The caller's agents page by page (newest first), and the shapes the API shows them in.

Page tokens are opaque cursors (created_at, agent_id) of the last item shown, so a page never
repeats or skips an agent when others are added in between.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from shared.errors import InvalidInputError
from shared.ports.documents import DocumentStore, Filter
from shared.schemas.collections import AGENTS

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
SUMMARY_FIELDS = ("name", "description", "tags", "status", "created_at", "updated_at")
DETAIL_FIELDS = (*SUMMARY_FIELDS, "code_hash", "files", "history", "validation",
                 "latest_backtest", "standard_backtest", "paper_session")


@dataclass(frozen=True)
class ListAgents:
    """One page of the caller's agents."""

    owner_uid: str
    limit: int = DEFAULT_PAGE_SIZE
    page_token: str | None = None


@dataclass(frozen=True)
class AgentPage:
    """Agents (summaries) and the token of the next page, None on the last one."""

    agents: list[dict[str, Any]]
    next_page_token: str | None


def list_agents(cmd: ListAgents, *, documents: DocumentStore) -> AgentPage:
    """Return the caller's non-deleted agents, newest first."""
    if not 1 <= cmd.limit <= MAX_PAGE_SIZE:
        raise InvalidInputError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    where = [Filter("owner_uid", "==", cmd.owner_uid), Filter("deleted", "==", False)]
    after = _decode_token(cmd.page_token) if cmd.page_token else None
    if after is not None:
        where.append(Filter("created_at", "<=", after[0]))
    found: list[tuple[str, dict[str, Any]]] = []
    offset = 0
    # Agents created in the same microsecond as the cursor share its created_at: skip those
    # already shown (ordered like the store orders ties, by id, descending).
    while len(found) <= cmd.limit:
        batch = documents.query(AGENTS, where, order_by="created_at", descending=True,
                                limit=cmd.limit + 1, offset=offset)
        offset += len(batch)
        found += [(i, d) for i, d in batch if after is None or (d["created_at"], i) < after]
        if len(batch) < cmd.limit + 1:
            break
    page = found[: cmd.limit]
    token = _encode_token(page[-1][1]["created_at"], page[-1][0]) if len(found) > cmd.limit else None
    return AgentPage([agent_summary(i, d) for i, d in page], token)


def agent_summary(agent_id: str, agent: dict[str, Any]) -> dict[str, Any]:
    """The list view of an agent."""
    return {"agent_id": agent_id, **{k: agent.get(k) for k in SUMMARY_FIELDS}}


def agent_detail(agent_id: str, agent: dict[str, Any]) -> dict[str, Any]:
    """The full view of an agent: status, validation report, history, backtest, paper session."""
    return {"agent_id": agent_id, **{k: agent.get(k) for k in DETAIL_FIELDS}}


def encode_token(created_at: str, doc_id: str) -> str:
    """An opaque page token for the cursor (created_at, doc_id)."""
    return _encode_token(created_at, doc_id)


def decode_token(token: str) -> tuple[str, str]:
    """The cursor a page token holds; InvalidInputError for anything this API did not return."""
    return _decode_token(token)


def _encode_token(created_at: str, agent_id: str) -> str:
    raw = json.dumps([created_at, agent_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        created_at, agent_id = json.loads(raw)
        if isinstance(created_at, str) and isinstance(agent_id, str):
            return created_at, agent_id
    except (binascii.Error, ValueError, TypeError):
        pass
    raise InvalidInputError("page_token is not a token this API returned")
