"""What a runtime host's pod says about the runtime: the kubelet's restarts and the last exit.

On GKE nobody asks the orchestrator before a runtime is restarted: the kubelet restarts a host
container that exits, for ever, with a back-off. Its pod is where that is written
(`status.containerStatuses[].restartCount`, `lastState.terminated.exitCode` and `reason`), so
`GkeOrchestrator.status`/`list` read it and report restarts as the local orchestrator counts
them: one per exit it did not ask for, counted when the runtime exits (a container waiting in
CrashLoopBackOff has exited once more than its restartCount says). The restart budget is not
applied here but by `shared.services.runtime_watch`, with the session's rule.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from shared.ports.orchestrator import RuntimeStatus

RUNTIME_CONTAINER = "runtime"  # the host's container in runtime/k8s/statefulset.yaml
SESSION_ARG = "--session-id"


def session_of(pod: Any) -> str:
    """The session the pod runs: its container's `--session-id` argument (statefulset.yaml).

    The StatefulSet's annotation names the session it should run; while a new session rolls
    the pod, the old pod still runs (and may crash for) the old one, so restarts are charged to
    the session that the crashing process actually ran.
    """
    container = _runtime_container(pod.spec.containers or [])
    args = list(getattr(container, "args", None) or [])
    return args[args.index(SESSION_ARG) + 1] if SESSION_ARG in args[:-1] else ""


def with_pod(status: RuntimeStatus, pod: Any | None) -> RuntimeStatus:
    """`status` (read from the StatefulSet) with what the pod of its session tells."""
    if pod is None or session_of(pod) != status.session_id:
        return status  # no pod yet, or still the previous session's: nothing of this session's runs
    container = _runtime_container((pod.status and pod.status.container_statuses) or [])
    if container is None:
        return status
    state, last = container.state, container.last_state
    exited_now = bool(state and (state.terminated or (state.waiting and state.waiting.reason == "CrashLoopBackOff")))
    restarts = (container.restart_count or 0) + (1 if exited_now else 0)
    ending = (state.terminated if state and state.terminated else None) or (last.terminated if last else None)
    detail = ""
    if ending is not None:
        detail = ending.reason or ""
        if ending.message:
            detail = f"{detail}: {ending.message.strip()}" if detail else ending.message.strip()
    down = restarts > 0 and not container.ready
    return replace(status, state="restarting" if down else status.state, restarts=restarts,
                   exit_code=ending.exit_code if ending is not None else None, detail=detail)


def pods_by_workload(pods: list[Any]) -> dict[str, Any]:
    """Each StatefulSet's first pod (NAME-0: runtimes have one replica), by StatefulSet name."""
    found = {}
    for pod in pods:
        for owner in pod.metadata.owner_references or []:
            if owner.kind == "StatefulSet" and pod.metadata.name == f"{owner.name}-0":
                found[owner.name] = pod
    return found


def _runtime_container(containers: list[Any]) -> Any | None:
    return next((c for c in containers if c.name == RUNTIME_CONTAINER), None)
