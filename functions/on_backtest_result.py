"""Pub/Sub `backtest-results` -> store the run's results and move the agent's status.

A malformed message is permanent: logged and acknowledged by the edge. A redelivered result
changes nothing. Store failures raise so the message is delivered again.
"""

from __future__ import annotations

import logging

import functions_framework

from functions import _platform
from functions.edge.events import event_endpoint, pubsub_message
from shared.schemas.messages import BacktestCompleted
from shared.services.backtests import record_backtest_result

NAME = "farm-on-backtest-result"
log = logging.getLogger(__name__)


@functions_framework.cloud_event
@event_endpoint(pubsub_message(BacktestCompleted))
def on_backtest_result(result: BacktestCompleted) -> None:
    """Record a finished run (succeeded or failed) once."""
    if not record_backtest_result(result, documents=_platform.platform().documents):
        log.info("backtest result %s already recorded: redelivery ignored", result.run_id)
