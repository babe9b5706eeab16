"""Pub/Sub `reconciliation-requests` -> launch the reconciliation job and mark it `running`.

A malformed message or one naming an unknown reconciliation is permanent: logged and
acknowledged by the edge. Store failures raise so the message is delivered again; the service
launches a reconciliation once.
"""

from __future__ import annotations

import functions_framework

from functions import _platform
from functions.edge.events import event_endpoint, pubsub_message
from shared.schemas.messages import RunReconciliation
from shared.services.reconciliations import launch_reconciliation

NAME = "farm-on-reconciliation-request"


@functions_framework.cloud_event
@event_endpoint(pubsub_message(RunReconciliation))
def on_reconciliation_request(command: RunReconciliation) -> None:
    """Launch the requested reconciliation unless it is already running or finished."""
    platform = _platform.platform()
    launch_reconciliation(command, documents=platform.documents, launcher=platform.reconcile_launcher)
