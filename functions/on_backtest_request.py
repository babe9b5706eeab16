"""Pub/Sub `backtest-requests` -> launch the backtest job and mark the run `running`.

A malformed message or one naming an unknown agent is permanent: logged and acknowledged.
Store failures raise so the message is delivered again; the service launches a run once.
"""

from __future__ import annotations

import logging

import functions_framework
from cloudevents.http import CloudEvent

from functions import _platform
from functions._launchers import launcher_for  # shared per process, closed by `farm up`
from shared.errors import InvalidInputError
from shared.events import decode_pubsub_event
from shared.schemas.messages import RunBacktest
from shared.services.backtests import launch_backtest

NAME = "farm-on-backtest-request"
log = logging.getLogger(__name__)


@functions_framework.cloud_event
def on_backtest_request(event: CloudEvent) -> None:
    """Launch the requested run unless it is already running or finished."""
    try:
        run = RunBacktest.decode(decode_pubsub_event(event).data)
        platform = _platform.platform()
        launch_backtest(
            run, documents=platform.documents, messages=platform.messages, launcher=launcher_for(platform)
        )
    except InvalidInputError as exc:
        log.error("dropping backtest request %s: %s", event["id"], exc.message)
