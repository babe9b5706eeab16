"""The restart budget on GKE: the runtime-watch tick (functions/on_runtime_watch.py) over the fake cluster.

Sessions are started by the paper-trading service on the real document store (SQLite) with the
simulated accounts and a GkeOrchestrator that reaches the fake Kubernetes API server as the
functions' account (tests/fakes/gke_control_plane.py); the fake plays the kubelet when a test
crashes a runtime pod. Each tick is the CloudEvent Cloud Scheduler's message becomes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from functions import _platform
from functions.on_runtime_watch import on_runtime_watch
from shared.adapters.gcp.gke_manifests import NAMESPACE, workload_name
from shared.adapters.local.documents import SqliteDocumentStore
from shared.app import Application
from shared.domain.clock import now_iso
from shared.domain.lifecycle import MAX_AUTOMATIC_RESTARTS
from shared.events import encode_pubsub_event
from shared.ports.messages import ReceivedMessage
from shared.schemas.collections import AGENTS, SESSIONS, USERS
from shared.schemas.topics import RUNTIME_WATCH
from shared.services import paper_trading
from shared.services.runtime_watch import watch_runtimes
from shared.venues.simulated.accounts import SimulatedAccounts
from tests.fakes.gke_control_plane import PROJECT, ControlPlane, running_control_plane
from tests.fakes.paper_ports import UID, backtested


@dataclass
class Cluster:
    plane: ControlPlane
    app: Application
    accounts: SimulatedAccounts

    def trading(self, agent_id: str) -> str:
        """A backtested agent of UID with a funded account, started on GKE, its runtime up and trading."""
        backtested(self.app.documents, agent_id)
        account = self.accounts.create_account(UID, agent_id)
        self.accounts.fund(UID, account.account_id, idempotency_key=f"fund-{agent_id}")
        cmd = paper_trading.StartPaperTrading(owner_uid=UID, agent_id=agent_id)
        session = paper_trading.start_paper_trading(cmd, documents=self.app.documents, accounts=self.accounts,
                                                    orchestrator=self.app.orchestrator)
        self.plane.kube.set_ready(NAMESPACE, workload_name(agent_id))
        paper_trading.mark_trading(self.app.documents, session["session_id"], started_at=now_iso())
        return session["session_id"]

    def session(self, session_id: str) -> dict[str, Any]:
        return self.app.documents.get(SESSIONS, session_id) or {}

    def agent_status(self, agent_id: str) -> str:
        return (self.app.documents.get(AGENTS, agent_id) or {})["status"]

    def runs(self, agent_id: str) -> bool:
        return (NAMESPACE, workload_name(agent_id)) in self.plane.kube.objects


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with running_control_plane(tmp_path) as plane:
        documents = SqliteDocumentStore(tmp_path / "documents.sqlite3")
        accounts = SimulatedAccounts(documents)
        app = Application(plane.settings, documents=documents, orchestrator=plane.orchestrator(),
                          broker_accounts=accounts)
        previous = _platform.use_platform(app)
        try:
            yield Cluster(plane, app, accounts)
        finally:
            _platform.use_platform(previous)
            app.close()
            documents.close()


def tick(n: int = 1) -> None:
    """What Cloud Scheduler's message on runtime-watch delivers to the function."""
    message = ReceivedMessage(message_id=f"tick-{n}", data=b"{}", attributes={}, publish_time=time.time(),
                              ack_id=f"ack-{n}", delivery_attempt=1)
    on_runtime_watch(encode_pubsub_event(message, project=PROJECT, topic=RUNTIME_WATCH,
                                         subscription="eventarc-runtime-watch"))


def test_a_runtime_restarted_more_than_three_times_ends_failed_and_its_statefulset_is_deleted(cluster) -> None:
    session_id = cluster.trading("crashy")
    cluster.plane.crash("crashy", MAX_AUTOMATIC_RESTARTS)
    tick(1)
    assert cluster.session(session_id)["restarts"] == MAX_AUTOMATIC_RESTARTS
    assert cluster.session(session_id)["state"] == "trading" and cluster.runs("crashy")

    cluster.plane.crash("crashy", exit_code=137, reason="OOMKilled")
    tick(2)

    session = cluster.session(session_id)
    assert session["state"] == "failed" and cluster.agent_status("crashy") == "failed"
    assert "exited with 137: OOMKilled" in session["error"]
    assert session_id not in (cluster.app.documents.get(USERS, UID) or {}).get("running_sessions", [])
    assert not cluster.runs("crashy") and cluster.plane.kube.stores["pods"] == {}  # nothing left crash-looping


def test_a_runtime_restarted_twice_keeps_trading_with_its_restarts_counted(cluster) -> None:
    session_id = cluster.trading("wobbly")
    cluster.plane.crash("wobbly", 2)

    tick(1)
    tick(2)  # the same count again changes nothing

    session = cluster.session(session_id)
    assert (session["state"], session["restarts"]) == ("trading", 2)
    assert session["last_restart_reason"] == "exited with 1: Error"
    assert cluster.agent_status("wobbly") == "trading" and cluster.runs("wobbly")


def test_one_pass_counts_what_it_missed_and_fails_at_once_past_the_budget(cluster) -> None:
    steady, crashy = cluster.trading("steady"), cluster.trading("crashy")
    cluster.plane.crash("crashy", MAX_AUTOMATIC_RESTARTS + 2)

    report = watch_runtimes(cluster.app.documents, cluster.app.orchestrator)

    assert (report.failed, report.restarted, report.removed) == ([crashy], [], [])
    assert cluster.session(crashy)["state"] == "failed" and cluster.session(steady)["state"] == "trading"
    assert cluster.runs("steady") and not cluster.runs("crashy")


def test_the_runtime_a_finished_session_left_behind_is_removed(cluster) -> None:
    # A session that failed while its runtime's delete did not go through (e.g. the API was down).
    session_id = cluster.trading("leftover")
    paper_trading.mark_failed(cluster.app.documents, session_id, reason="runtime did not start: timeout")
    assert cluster.runs("leftover")

    tick()

    assert not cluster.runs("leftover") and cluster.session(session_id)["state"] == "failed"
