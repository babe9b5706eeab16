"""The Orchestrator contract: the same behaviours over every adapter, as the other port suites.

- `local`: LocalOrchestrator supervising real subprocesses (tests/contract/orchestrator_runtime.py
  stands in for `python -m runtime`: it answers SIGTERM with a clean exit and SIGUSR1 with exit 3).
- `gke`: GkeOrchestrator against the fake Kubernetes API server (real TLS, the real client, the
  repo's RBAC), which plays the StatefulSet controller and, when asked, the kubelet.

Start, status, list and stop behave alike. Restart accounting goes as far as each backend can
show it: both report every unasked exit as a restart with its exit code; the budget is the
session's rule (`record_runtime_restart`), applied by the local orchestrator's hooks as it
restarts, and on GKE by the runtime watch (the kubelet restarts by itself). Past the budget the
session and agent end `failed` and the runtime runs no more, on both.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from shared.adapters.gcp.gke_manifests import NAMESPACE, workload_name
from shared.adapters.local.documents import SqliteDocumentStore
from shared.adapters.local.orchestrator import LocalOrchestrator
from shared.app import Application
from shared.domain.clock import now_iso
from shared.domain.lifecycle import MAX_AUTOMATIC_RESTARTS
from shared.ports.orchestrator import Orchestrator, RuntimeSpec
from shared.schemas.collections import AGENTS, SESSIONS
from shared.services import paper_runtime, paper_trading
from shared.services.runtime_watch import watch_runtimes
from shared.settings import Settings
from shared.venues.simulated.accounts import SimulatedAccounts
from tests.contract.orchestrator_runtime import CRASH_EXIT_CODE
from tests.fakes.gke_control_plane import running_control_plane
from tests.fakes.paper_ports import UID, backtested

SPEC = RuntimeSpec(cpu=0.5, memory_mb=512)
ACTIVE = ("starting", "running", "restarting")
T = TypeVar("T")


def wait_for(condition: Callable[[], T], what: str, timeout_s: float = 20.0) -> T:
    """Poll `condition` until it is truthy; its value."""
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
    return value


@dataclass
class Backend:
    """One adapter with what a test needs to drive it as its platform would."""

    orchestrator: Orchestrator
    app: Application
    make_running: Callable[[str], None]  # the runtime is up and ready (the real runtime gets there itself)
    crash: Callable[[str], None]  # one exit nobody asked for (exit 3), after which it is restarted
    settle: Callable[[], None]  # let the platform apply the restart budget to what happened

    def start_session(self, agent_id: str) -> str:
        """A backtested agent with a funded account, its session started and its runtime trading."""
        accounts = SimulatedAccounts(self.app.documents)
        backtested(self.app.documents, agent_id)
        account = accounts.create_account(UID, agent_id)
        accounts.fund(UID, account.account_id, idempotency_key=f"fund-{agent_id}")
        cmd = paper_trading.StartPaperTrading(owner_uid=UID, agent_id=agent_id)
        session_id = paper_trading.start_paper_trading(cmd, documents=self.app.documents, accounts=accounts,
                                                       orchestrator=self.orchestrator, spec=SPEC)["session_id"]
        self.make_running(agent_id)
        paper_runtime.mark_trading(self.app.documents, session_id, started_at=now_iso())
        return session_id

    def session(self, session_id: str) -> dict[str, Any]:
        return self.app.documents.get(SESSIONS, session_id) or {}


def local_backend(tmp_path: Path) -> Iterator[Backend]:
    documents = SqliteDocumentStore(tmp_path / "documents.sqlite3")
    app = Application(Settings(backend="local", data_dir=tmp_path), documents=documents)
    orchestrator = LocalOrchestrator(tmp_path, backoff_s=0.05, on_failed=app.runtime_failed,
                                     on_restart=app.runtime_restarted, module="tests.contract.orchestrator_runtime")

    def ready_pid(agent_id: str) -> int | None:
        status = orchestrator.status(agent_id)
        answering = status.pid is not None and (tmp_path / "ready" / str(status.pid)).exists()
        return status.pid if status.state == "running" and answering else None

    def make_running(agent_id: str) -> None:
        wait_for(lambda: ready_pid(agent_id), f"the runtime of {agent_id} answering")

    def crash(agent_id: str) -> None:
        before = orchestrator.status(agent_id).restarts
        os.kill(wait_for(lambda: ready_pid(agent_id), "a runtime to crash"), signal.SIGUSR1)
        wait_for(lambda: orchestrator.status(agent_id).restarts > before or orchestrator.status(agent_id).state
                 == "failed", "the exit seen by the supervisor")

    try:
        yield Backend(orchestrator, app, make_running, crash, settle=lambda: None)
    finally:
        orchestrator.close(timeout_s=5)
        app.close()
        documents.close()


def gke_backend(tmp_path: Path) -> Iterator[Backend]:
    with running_control_plane(tmp_path) as plane:
        documents = SqliteDocumentStore(tmp_path / "documents.sqlite3")
        orchestrator = plane.orchestrator()
        app = Application(plane.settings, documents=documents, orchestrator=orchestrator)

        def make_running(agent_id: str) -> None:
            plane.kube.set_ready(NAMESPACE, workload_name(agent_id))

        def crash(agent_id: str) -> None:
            plane.crash(agent_id, exit_code=CRASH_EXIT_CODE)

        def settle() -> None:  # the scheduled runtime-watch tick (functions/on_runtime_watch.py)
            watch_runtimes(documents, orchestrator)

        try:
            yield Backend(orchestrator, app, make_running, crash, settle)
        finally:
            app.close()
            documents.close()


@pytest.fixture(params=["local", "gke"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    yield from {"local": local_backend, "gke": gke_backend}[request.param](tmp_path)


def test_a_started_runtime_runs_its_session_and_is_listed(backend: Backend) -> None:
    started = backend.orchestrator.start("agent-1", "sess-1", SPEC)
    assert (started.agent_id, started.session_id, started.state in ("starting", "running")) == (
        "agent-1", "sess-1", True)

    backend.make_running("agent-1")

    status = backend.orchestrator.status("agent-1")
    assert (status.session_id, status.state, status.restarts) == ("sess-1", "running", 0)
    assert [(s.agent_id, s.session_id, s.state) for s in backend.orchestrator.list()] == [
        ("agent-1", "sess-1", "running")]


def test_starting_the_running_session_again_keeps_one_runtime(backend: Backend) -> None:
    backend.orchestrator.start("agent-1", "sess-1", SPEC)
    backend.make_running("agent-1")

    backend.orchestrator.start("agent-1", "sess-1", SPEC)

    assert [(s.agent_id, s.session_id) for s in backend.orchestrator.list()] == [("agent-1", "sess-1")]


def test_a_stopped_runtime_runs_no_more_and_stopping_again_is_harmless(backend: Backend) -> None:
    backend.orchestrator.start("agent-1", "sess-1", SPEC)
    backend.orchestrator.start("agent-2", "sess-2", SPEC)
    backend.make_running("agent-1")

    stopped = backend.orchestrator.stop("agent-1", timeout_s=5)

    assert (stopped.session_id, stopped.state) == ("sess-1", "stopped")
    assert backend.orchestrator.status("agent-1").state in ("stopped", "unknown")
    assert [s.agent_id for s in backend.orchestrator.list() if s.state in ACTIVE] == ["agent-2"]
    assert backend.orchestrator.stop("agent-1", timeout_s=5).state in ("stopped", "unknown")


def test_stopping_for_another_session_leaves_the_runtime_running(backend: Backend) -> None:
    backend.orchestrator.start("agent-1", "sess-2", SPEC)
    backend.make_running("agent-1")

    backend.orchestrator.stop("agent-1", session_id="sess-1", timeout_s=5)

    status = backend.orchestrator.status("agent-1")
    assert (status.session_id, status.state) == ("sess-2", "running")


def test_an_agent_never_started_is_unknown(backend: Backend) -> None:
    assert backend.orchestrator.status("nobody").state == "unknown"
    assert backend.orchestrator.list() == []


def test_each_exit_nobody_asked_for_is_a_restart_with_its_exit_code(backend: Backend) -> None:
    backend.orchestrator.start("agent-1", "sess-1", SPEC)
    backend.make_running("agent-1")

    for _ in range(2):
        backend.crash("agent-1")
        backend.make_running("agent-1")

    status = backend.orchestrator.status("agent-1")
    assert (status.session_id, status.state, status.restarts, status.exit_code) == (
        "sess-1", "running", 2, CRASH_EXIT_CODE)


def test_past_the_restart_budget_the_session_and_agent_end_failed_and_the_runtime_runs_no_more(
        backend: Backend) -> None:
    session_id = backend.start_session("agent-1")
    for _ in range(MAX_AUTOMATIC_RESTARTS):
        backend.crash("agent-1")
        backend.make_running("agent-1")
    backend.settle()
    wait_for(lambda: backend.session(session_id).get("restarts") == MAX_AUTOMATIC_RESTARTS, "the restarts recorded")
    assert backend.session(session_id)["state"] == "trading"

    backend.crash("agent-1")
    backend.settle()

    wait_for(lambda: backend.session(session_id)["state"] == "failed", "the session failed")
    assert (backend.app.documents.get(AGENTS, "agent-1") or {})["status"] == "failed"
    assert f"exited with {CRASH_EXIT_CODE}" in backend.session(session_id)["error"]
    assert backend.orchestrator.status("agent-1").state not in ACTIVE
