"""Pub/Sub `backtest-requests` -> launch the backtest job and mark the run `running`.

A malformed message or one naming an unknown agent is permanent: logged and acknowledged by
the edge. Store failures raise so the message is delivered again; the service launches a run once.
"""

from __future__ import annotations

import functions_framework

from functions import _platform
from functions.edge.events import event_endpoint, pubsub_message
from shared.schemas.messages import RunBacktest
from shared.services.backtests import launch_backtest

NAME = "farm-on-backtest-request"


@functions_framework.cloud_event
@event_endpoint(pubsub_message(RunBacktest))
def on_backtest_request(run: RunBacktest) -> None:
    """Launch the requested run unless it is already running or finished."""
    platform = _platform.platform()
    launch_backtest(run, documents=platform.documents, messages=platform.messages, launcher=platform.job_launcher)
