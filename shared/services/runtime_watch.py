"""The restart budget for runtimes that restart without asking anyone (GKE), by the session's rule.

The local orchestrator restarts a crashed runtime itself and reports each restart through its
hooks. On GKE the kubelet restarts a crashed host container for ever, and the orchestrator can
only say how often (`RuntimeStatus.restarts`, read from the pod). `watch_runtimes` runs on a
schedule (functions/on_runtime_watch.py, every minute): it charges each new count to the session
the runtime runs, through the same aggregate rule as the local hooks
(`shared.services.paper_runtime.record_runtime_restart`, `PaperSession.record_restart`), and
removes the runtime of a session that has ended: past its budget (so a crash-looping runtime
stops, and its owner sees `failed` with the exit code and reason), or one left behind by a stop
or a failure whose delete did not go through. Every step is idempotent, so a tick may repeat one.
A pod made anew (a drained node, a paused session resumed) counts from zero again, and the
session then records that count: a local runtime started again counts afresh too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from shared.domain.paper_session import PaperSession
from shared.errors import FarmError
from shared.ports.documents import DocumentStore
from shared.ports.orchestrator import Orchestrator, RuntimeStatus
from shared.schemas.collections import SESSIONS
from shared.services.paper_runtime import record_runtime_restart

log = logging.getLogger(__name__)


@dataclass
class WatchReport:
    """What one pass did, by session id."""

    restarted: list[str] = field(default_factory=list)  # a new restart count recorded
    failed: list[str] = field(default_factory=list)  # past the budget: failed, runtime removed
    removed: list[str] = field(default_factory=list)  # the session had ended already: runtime removed


def exit_reason(status: RuntimeStatus) -> str:
    """How the runtime last ended, as the session records it ("exited with 137: OOMKilled")."""
    return f"exited with {status.exit_code}" + (f": {status.detail}" if status.detail else "")


def watch_runtimes(documents: DocumentStore, orchestrator: Orchestrator) -> WatchReport:
    """Apply the restart budget to every runtime `orchestrator` runs; remove those of ended sessions.

    One runtime's error does not keep the others from being watched; the first is raised at the
    end (the caller's event is then delivered again, and a watcher that keeps failing is seen).
    """
    report, errors = WatchReport(), []
    for status in orchestrator.list():
        try:
            _watch(documents, orchestrator, status, report)
        except FarmError as exc:
            log.error("runtime of %s (session %s) not watched: %s", status.agent_id, status.session_id, exc)
            errors.append(exc)
    if report.failed or report.removed:
        log.warning("runtime watch: failed %s, removed %s", report.failed, report.removed)
    if errors:
        raise errors[0]
    return report


def _watch(documents: DocumentStore, orchestrator: Orchestrator, status: RuntimeStatus, report: WatchReport) -> None:
    document = documents.get(SESSIONS, status.session_id) if status.session_id else None
    if document is None:
        log.warning("runtime of %s runs session %r, which does not exist: left alone", status.agent_id,
                    status.session_id)
        return
    session = PaperSession(status.session_id, document)
    if session.is_finished:
        orchestrator.stop(status.agent_id, session_id=session.id)
        report.removed.append(session.id)
    elif session.is_live and status.restarts > 0 and status.restarts != int(document.get("restarts") or 0):
        if record_runtime_restart(documents, session.id, status.restarts, reason=exit_reason(status)):
            orchestrator.stop(status.agent_id, session_id=session.id)
            report.failed.append(session.id)
        else:
            report.restarted.append(session.id)
