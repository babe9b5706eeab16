"""Pub/Sub `reconciliation-requests` -> launch the reconciliation job and mark it `running`.

A malformed message or one naming an unknown reconciliation is permanent: logged and
acknowledged. Store failures raise so the message is delivered again; the service launches
a reconciliation once.
"""

from __future__ import annotations

import logging

import functions_framework
from cloudevents.http import CloudEvent

from functions import _platform
from functions._reconcile_launcher import (
    reconcile_launcher_for,  # shared per process, closed by `farm up`
)
from shared.errors import InvalidInputError
from shared.events import decode_pubsub_event
from shared.schemas.messages import RunReconciliation
from shared.services.reconciliations import launch_reconciliation

NAME = "farm-on-reconciliation-request"
log = logging.getLogger(__name__)


@functions_framework.cloud_event
def on_reconciliation_request(event: CloudEvent) -> None:
    """Launch the requested reconciliation unless it is already running or finished."""
    try:
        command = RunReconciliation.decode(decode_pubsub_event(event).data)
        platform = _platform.platform()
        launch_reconciliation(command, documents=platform.documents, launcher=reconcile_launcher_for(platform))
    except InvalidInputError as exc:
        log.error("dropping reconciliation request %s: %s", event["id"], exc.message)
