"""Pub/Sub `runtime-watch` (Cloud Scheduler, every minute) -> the restart budget for GKE runtimes.

On GKE the kubelet restarts a crashed runtime for ever; this tick charges each new restart the
runtime pods report to its session, and past the budget the session and agent end `failed` and
the runtime is removed (shared.services.runtime_watch). A scheduled function rather than a watch
loop in a long-lived workload: it needs no process of its own to keep alive, acts as the
functions' identity that already may read the runtimes' pods (runtime/k8s/rbac.yaml), and a tick
that fails is delivered again. The tick carries nothing: each reads the state as it is now.
"""

from __future__ import annotations

import functions_framework

from functions import _platform
from functions.edge.events import event_endpoint
from shared.events import PubSubEvent, decode_pubsub_event
from shared.services.runtime_watch import watch_runtimes

NAME = "farm-on-runtime-watch"


@functions_framework.cloud_event
@event_endpoint(decode_pubsub_event)
def on_runtime_watch(tick: PubSubEvent) -> None:
    """Apply the restart budget to every runtime the platform's orchestrator runs."""
    platform = _platform.platform()
    watch_runtimes(platform.documents, platform.orchestrator)
