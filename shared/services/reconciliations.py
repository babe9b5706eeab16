"""Reconciliation use cases (SPEC §4 wave 2): request, launch, finish and show a reconciliation.

A reconciliation lives on `reconciliations/{id}` (status queued -> running -> succeeded |
failed). It compares a paper session with its replay through the backtest host (`kind`
"paper", the default: the agent's latest session), or two backtests of the agent (`kind`
"backtests": "what changed between these runs"). The request publishes `RunReconciliation`;
its handler claims the document and launches the job (`python -m jobs.reconcile`); the job
stores the report. The id is the idempotency key of every step: a redelivered message never
launches twice, a finished reconciliation is never overwritten.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol

from shared.domain.clock import now_iso
from shared.domain.unit_of_work import read_only
from shared.errors import ConflictError, InvalidInputError, NotFoundError
from shared.ports import DocumentStore, MessageBus, OutgoingMessage, Transaction
from shared.ports.blobs import BlobStore
from shared.ports.jobs import JobHandle
from shared.schemas.collections import BACKTESTS, RECONCILIATIONS, SESSIONS
from shared.schemas.messages import RunReconciliation

log = logging.getLogger(__name__)
QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
FINAL = frozenset({SUCCEEDED, FAILED})
FIELDS = ("agent_id", "kind", "session_id", "run_ids", "status", "summary", "first_divergences", "findings",
          "report_key", "chart_key", "error", "created_at", "started_at", "finished_at")
Clock = Callable[[], str]


class ReconciliationLauncher(Protocol):
    """Starts `python -m jobs.reconcile` for a reconciliation (a subprocess or a Cloud Build)."""

    def launch(self, run: RunReconciliation) -> JobHandle:
        """Start the job and return at once; TransientError when it cannot start now."""
        ...

    def close(self) -> None:
        """Stop what this process supervises: local jobs are killed (marked failed); cloud builds run on."""
        ...


def report_key(reconciliation_id: str) -> str:
    """Where the full report (every divergence, the curves) is stored."""
    return f"reconciliations/{reconciliation_id}/report.json"


def chart_key(reconciliation_id: str) -> str:
    """Where the chart (equity overlay with divergence markers) is stored."""
    return f"reconciliations/{reconciliation_id}/chart.png"


def request_reconciliation(
    owner_uid: str, agent_id: str, body: Mapping[str, Any], *, documents: DocumentStore, messages: MessageBus,
    clock: Clock = now_iso,
) -> dict[str, Any]:
    """Queue a reconciliation of the caller's agent; return {reconciliation_id, status, kind}.

    Body: `{}` or `{"session_id"}` (a paper session of the agent), or `{"backtests": [a, b]}`.
    """
    if not isinstance(body, Mapping):
        raise InvalidInputError("the body must be a JSON object")
    unknown = sorted(set(body) - {"session_id", "backtests"})
    if unknown:
        raise InvalidInputError(f"unknown field(s) {unknown}")
    agent = read_only(documents).agents.owned(agent_id, owner_uid).to_document()
    kind, session_id, run_ids = _target(owner_uid, agent_id, agent, body, documents)
    at = clock()
    command = RunReconciliation(reconciliation_id=f"rc-{secrets.token_hex(8)}", agent_id=agent_id,
                                owner_uid=owner_uid, kind=kind, session_id=session_id, run_ids=run_ids,
                                requested_at=at)
    documents.create(RECONCILIATIONS, command.reconciliation_id, {
        "owner_uid": owner_uid, "agent_id": agent_id, "kind": kind, "session_id": session_id, "run_ids": run_ids,
        "status": QUEUED, "created_at": at, "updated_at": at,
    })
    attributes = {"reconciliation_id": command.reconciliation_id, "agent_id": agent_id}
    messages.publish(RunReconciliation.TOPIC, [OutgoingMessage(command.encode(), attributes)])
    return {"reconciliation_id": command.reconciliation_id, "status": QUEUED, "kind": kind}


def launch_reconciliation(
    command: RunReconciliation, *, documents: DocumentStore, launcher: ReconciliationLauncher, clock: Clock = now_iso,
) -> JobHandle | None:
    """Mark the reconciliation `running` and launch its job; None when already launched or done."""
    at = clock()

    def claim(txn: Transaction) -> bool:
        doc = txn.get(RECONCILIATIONS, command.reconciliation_id)
        if doc is None or doc.get("owner_uid") != command.owner_uid:
            raise InvalidInputError(f"no reconciliation {command.reconciliation_id} of {command.owner_uid}")
        if doc.get("status") != QUEUED:
            return False
        txn.update(RECONCILIATIONS, command.reconciliation_id, {"status": RUNNING, "started_at": at, "updated_at": at})
        return True

    if not documents.transaction(claim):
        log.info("reconciliation %s already launched: redelivery ignored", command.reconciliation_id)
        return None
    try:
        handle = launcher.launch(command)
    except Exception as exc:  # the document says running now: it must end, whatever failed
        log.exception("reconciliation %s could not be launched", command.reconciliation_id)
        finish_reconciliation(documents, command.reconciliation_id, error=f"the job could not be launched: {exc}")
        return None
    documents.update(RECONCILIATIONS, command.reconciliation_id, {"job": vars(handle), "updated_at": clock()})
    return handle


def finish_reconciliation(
    documents: DocumentStore, reconciliation_id: str, *, result: Mapping[str, Any] | None = None,
    error: str | None = None, clock: Clock = now_iso,
) -> bool:
    """Store the outcome (the job's result, or why it failed); False when it was already final."""
    at = clock()

    def finish(txn: Transaction) -> bool:
        doc = txn.get(RECONCILIATIONS, reconciliation_id)
        if doc is None or doc.get("status") in FINAL:
            return False
        status = FAILED if error is not None or result is None else SUCCEEDED
        txn.update(RECONCILIATIONS, reconciliation_id, {**(result or {}), "status": status, "error": error,
                                                        "finished_at": at, "updated_at": at})
        return True

    return documents.transaction(finish)


def get_reconciliation(owner_uid: str, agent_id: str, reconciliation_id: str, *,
                       documents: DocumentStore) -> dict[str, Any]:
    """The caller's reconciliation of that agent; NotFoundError for anyone else's or another agent's."""
    doc = documents.get(RECONCILIATIONS, reconciliation_id)
    if doc is None or doc.get("owner_uid") != owner_uid or doc.get("agent_id") != agent_id:
        raise NotFoundError(f"no reconciliation {reconciliation_id!r}")
    return {"reconciliation_id": reconciliation_id, **{k: doc.get(k) for k in FIELDS}}


def reconciliation_chart(owner_uid: str, agent_id: str, reconciliation_id: str, *, documents: DocumentStore,
                         blobs: BlobStore) -> bytes:
    """The chart PNG of a finished reconciliation; ConflictError before it has one."""
    doc = get_reconciliation(owner_uid, agent_id, reconciliation_id, documents=documents)
    if not doc.get("chart_key"):
        raise ConflictError(f"reconciliation {reconciliation_id} has no chart (status {doc['status']})")
    return blobs.get(doc["chart_key"])


def _target(owner_uid: str, agent_id: str, agent: Mapping[str, Any], body: Mapping[str, Any],
            documents: DocumentStore) -> tuple[Literal["paper", "backtests"], str | None, list[str]]:
    if "backtests" in body:
        runs = body["backtests"]
        if "session_id" in body or not isinstance(runs, list) or len(runs) != 2 or \
                not all(isinstance(r, str) and r for r in runs) or runs[0] == runs[1]:
            raise InvalidInputError("backtests must be two different run ids of the agent: [baseline, compared]")
        for run_id in runs:
            run = documents.get(BACKTESTS, run_id)
            if run is None or run.get("owner_uid") != owner_uid or run.get("agent_id") != agent_id:
                raise NotFoundError(f"no backtest {run_id!r} of agent {agent_id}")
            if run.get("status") != "succeeded":
                raise ConflictError(f"backtest {run_id} has not succeeded (it is {run.get('status')})")
        return "backtests", None, list(runs)
    session_id = body.get("session_id", agent.get("paper_session"))
    if session_id is None:
        raise ConflictError(f"agent {agent_id} has never paper traded: there is no session to reconcile")
    if not isinstance(session_id, str) or not session_id:
        raise InvalidInputError("session_id must be a session id")
    session = documents.get(SESSIONS, session_id)
    if session is None or session.get("owner_uid") != owner_uid or session.get("agent_id") != agent_id:
        raise NotFoundError(f"no paper session {session_id!r} of agent {agent_id}")
    return "paper", session_id, []
