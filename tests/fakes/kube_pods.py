"""The pods of the fake Kubernetes API server: what the StatefulSet controller and the kubelet write.

A StatefulSet of `replicas` n owns pods NAME-0 .. NAME-(n-1), built from its pod template with the
labels and ownerReference the real controller adds (`controller-revision-hash`,
`statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index`). A changed template rolls
the pod (a new one, restartCount 0), as a RollingUpdate does. The kubelet's part is what a test
asks for: a pod becomes ready, or its container exits and is restarted (restartCount, `lastState`
with the exit code and reason), or waits in CrashLoopBackOff. The JSON is the real API's shape.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import uuid
from typing import Any

BACK_OFF_CAP_S = 300  # the kubelet's back-off doubles from 10 s up to five minutes


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def revision_of(statefulset: dict[str, Any]) -> str:
    """The ControllerRevision name the controller gives the StatefulSet's current template."""
    template = json.dumps(statefulset["spec"]["template"], sort_keys=True).encode()
    return f"{statefulset['metadata']['name']}-{hashlib.sha256(template).hexdigest()[:10]}"


def wanted_pods(statefulset: dict[str, Any]) -> list[str]:
    """The pod names a StatefulSet's replicas ask for."""
    name, replicas = statefulset["metadata"]["name"], statefulset["spec"].get("replicas", 1)
    return [f"{name}-{index}" for index in range(replicas)]


def new_pod(statefulset: dict[str, Any], index: int, resource_version: str) -> dict[str, Any]:
    """A freshly scheduled pod of the StatefulSet: Pending, its containers being created."""
    meta, spec = statefulset["metadata"], statefulset["spec"]
    template = spec["template"]
    name = f"{meta['name']}-{index}"
    labels = dict(template["metadata"].get("labels") or {}) | {
        "controller-revision-hash": revision_of(statefulset), "statefulset.kubernetes.io/pod-name": name,
        "apps.kubernetes.io/pod-index": str(index)}
    pod_meta: dict[str, Any] = {
        "name": name, "generateName": f"{meta['name']}-", "namespace": meta["namespace"], "uid": str(uuid.uuid4()),
        "resourceVersion": resource_version, "creationTimestamp": now(), "labels": labels,
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": meta["name"],
                             "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}]}
    if template["metadata"].get("annotations"):
        pod_meta["annotations"] = dict(template["metadata"]["annotations"])
    pod_spec = json.loads(json.dumps(template["spec"])) | {
        "hostname": name, "subdomain": spec.get("serviceName", meta["name"]), "restartPolicy": "Always",
        "nodeName": "gke-farm-default-pool-5f1c2a7e-9x2k"}
    statuses = [{"name": c["name"], "image": c["image"], "imageID": "", "ready": False, "started": False,
                 "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {}}
                for c in pod_spec["containers"]]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": pod_spec,
            "status": {"phase": "Pending", "qosClass": "Burstable", "startTime": now(),
                       "conditions": _conditions(ready=False), "containerStatuses": statuses}}


def make_ready(pod: dict[str, Any]) -> None:
    """The containers run and the readiness probe passes."""
    for status in pod["status"]["containerStatuses"]:
        running = status["state"].get("running") or {"startedAt": now()}
        status.update(ready=True, started=True, state={"running": running},
                      containerID=status.get("containerID") or _container_id())
    pod["status"] |= {"phase": "Running", "conditions": _conditions(ready=True), "podIP": "10.52.1.17",
                      "hostIP": "10.10.0.4"}


def exit_container(pod: dict[str, Any], container: str, *, exit_code: int, reason: str, restart: bool,
                   message: str = "") -> None:
    """The container exits; with `restart` the kubelet has started it again after its back-off,
    else it waits in CrashLoopBackOff (restartCount counts restarts done, not exits)."""
    status = next(s for s in pod["status"]["containerStatuses"] if s["name"] == container)
    started = (status["state"].get("running") or {}).get("startedAt") or pod["status"]["startTime"]
    terminated: dict[str, Any] = {"exitCode": exit_code, "reason": reason, "startedAt": started,
                                  "finishedAt": now(), "containerID": status.get("containerID") or _container_id()}
    if message:
        terminated["message"] = message
    status.update(lastState={"terminated": terminated}, ready=False, started=False)
    if restart:
        status["restartCount"] += 1
        status.update(state={"running": {"startedAt": now()}}, containerID=_container_id())
    else:
        back_off = min(10 * 2 ** status["restartCount"], BACK_OFF_CAP_S)
        status["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": (
            f"back-off {back_off}s restarting failed container={container} pod={pod['metadata']['name']}_"
            f"{pod['metadata']['namespace']}({pod['metadata']['uid']})")}}
    pod["status"] |= {"phase": "Running", "conditions": _conditions(ready=False)}


def _conditions(*, ready: bool) -> list[dict[str, Any]]:
    flag = "True" if ready else "False"
    at = now()
    return [{"type": "PodScheduled", "status": "True", "lastTransitionTime": at},
            {"type": "Initialized", "status": "True", "lastTransitionTime": at},
            {"type": "ContainersReady", "status": flag, "lastTransitionTime": at},
            {"type": "Ready", "status": flag, "lastTransitionTime": at}]


def _container_id() -> str:
    return f"containerd://{secrets.token_hex(32)}"
