"""GkeOrchestrator reports what the kubelet did to a runtime: its restarts and how it last ended.

Against the fake Kubernetes API server (tests/fakes/kube_apiserver.py: it plays the StatefulSet
controller and, when asked, the kubelet) reached through the real kubernetes client, real TLS and
the repo's RBAC, as the functions' service account.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.adapters.gcp.gke_manifests import NAMESPACE, workload_name
from shared.ports.orchestrator import RuntimeSpec, RuntimeStatus
from tests.fakes.gke_control_plane import ControlPlane, running_control_plane

SPEC = RuntimeSpec(cpu=0.5, memory_mb=512)


@pytest.fixture
def plane(tmp_path: Path) -> Iterator[ControlPlane]:
    with running_control_plane(tmp_path) as plane:
        yield plane


def test_a_runtime_that_never_crashed_reports_no_restart(plane: ControlPlane) -> None:
    orchestrator = plane.orchestrator()
    orchestrator.start("agent-1", "sess-1", SPEC)
    plane.kube.set_ready(NAMESPACE, workload_name("agent-1"))

    assert orchestrator.status("agent-1") == RuntimeStatus("agent-1", "sess-1", "running")
    assert orchestrator.list() == [RuntimeStatus("agent-1", "sess-1", "running")]


def test_each_exit_the_kubelet_restarted_counts_with_its_exit_code_and_reason(plane: ControlPlane) -> None:
    orchestrator = plane.orchestrator()
    orchestrator.start("agent-1", "sess-1", SPEC)
    orchestrator.start("agent-2", "sess-2", SPEC)
    plane.kube.set_ready(NAMESPACE, workload_name("agent-1"))
    plane.kube.set_ready(NAMESPACE, workload_name("agent-2"))

    plane.crash("agent-1", 2)
    plane.crash("agent-2", exit_code=137, reason="OOMKilled")

    assert orchestrator.status("agent-1") == RuntimeStatus("agent-1", "sess-1", "restarting", restarts=2,
                                                           exit_code=1, detail="Error")
    assert {s.agent_id: (s.restarts, s.exit_code, s.detail) for s in orchestrator.list()} == {
        "agent-1": (2, 1, "Error"), "agent-2": (1, 137, "OOMKilled")}


def test_an_exit_waiting_in_crash_loop_back_off_counts_before_the_kubelet_restarts_it(plane: ControlPlane) -> None:
    # As the local orchestrator counts: a restart is due from the moment the runtime exits unasked.
    orchestrator = plane.orchestrator()
    orchestrator.start("agent-1", "sess-1", SPEC)
    plane.crash("agent-1")
    plane.kube.crash(NAMESPACE, plane.runtime_pod("agent-1"), exit_code=2, restart=False,
                     message="Traceback (most recent call last):\nValueError: boom\n")

    pod = plane.kube.pod(NAMESPACE, plane.runtime_pod("agent-1"))
    assert pod is not None
    [container] = pod["status"]["containerStatuses"]
    assert container["restartCount"] == 1 and container["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    status = orchestrator.status("agent-1")
    assert (status.state, status.restarts, status.exit_code) == ("restarting", 2, 2)
    assert status.detail == "Error: Traceback (most recent call last):\nValueError: boom"


def test_a_new_session_rolls_the_pod_and_starts_counting_afresh(plane: ControlPlane) -> None:
    orchestrator = plane.orchestrator()
    orchestrator.start("agent-1", "sess-1", SPEC)
    plane.crash("agent-1", 3)
    assert orchestrator.status("agent-1").restarts == 3

    orchestrator.start("agent-1", "sess-2", SPEC)  # the template changes: a new pod, restartCount 0

    assert orchestrator.status("agent-1") == RuntimeStatus("agent-1", "sess-2", "starting")


def test_stopping_for_a_session_leaves_a_runtime_that_runs_another(plane: ControlPlane) -> None:
    orchestrator = plane.orchestrator()
    orchestrator.start("agent-1", "sess-2", SPEC)

    assert orchestrator.stop("agent-1", session_id="sess-1").session_id == "sess-2"
    assert (NAMESPACE, workload_name("agent-1")) in plane.kube.objects

    assert orchestrator.stop("agent-1", session_id="sess-2").state == "stopped"
    assert plane.kube.objects == {} and plane.kube.stores["pods"] == {}
    assert plane.kube.delete_options[-1]["preconditions"]["resourceVersion"]  # only the version it read


def test_the_delete_is_refused_when_the_runtime_changed_since_it_was_read(plane: ControlPlane) -> None:
    # The precondition the watcher's stop carries, checked by the API server as the real one does.
    orchestrator = plane.orchestrator()
    orchestrator.start("agent-1", "sess-1", SPEC)
    path = f"/apis/apps/v1/namespaces/{NAMESPACE}/statefulsets/{workload_name('agent-1')}"
    token = orchestrator._credentials.token

    status, answer = plane.kube.handle("DELETE", path, f"Bearer {token}", "application/json",
                                       b'{"preconditions": {"resourceVersion": "1"}}')

    assert status == 409 and answer["reason"] == "Conflict" and "precondition" in answer["message"]
    assert (NAMESPACE, workload_name("agent-1")) in plane.kube.objects
