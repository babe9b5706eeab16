"""Pub/Sub `backtest-results` -> store the run's results and move the agent's status.

A malformed message is permanent: logged and acknowledged. A redelivered result changes
nothing. Store failures raise so the message is delivered again.
"""

from __future__ import annotations

import logging

import functions_framework
from cloudevents.http import CloudEvent

from functions import _platform
from shared.errors import InvalidInputError
from shared.events import decode_pubsub_event
from shared.schemas.messages import BacktestCompleted
from shared.services.backtests import record_backtest_result

NAME = "farm-on-backtest-result"
log = logging.getLogger(__name__)


@functions_framework.cloud_event
def on_backtest_result(event: CloudEvent) -> None:
    """Record a finished run (succeeded or failed) once."""
    try:
        result = BacktestCompleted.decode(decode_pubsub_event(event).data)
        if not record_backtest_result(result, documents=_platform.platform().documents):
            log.info("backtest result %s already recorded: redelivery ignored", result.run_id)
    except InvalidInputError as exc:
        log.error("dropping backtest result %s: %s", event["id"], exc.message)
