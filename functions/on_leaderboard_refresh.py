"""Pub/Sub `backtest-results` and `performance-updates` -> re-rank and refill the leaderboard cache.

Separate from the function that records backtest results: each has its own subscription. A
malformed message is permanent (logged, acknowledged); a warehouse failure raises so the
message comes back.
"""

from __future__ import annotations

import logging

import functions_framework
from cloudevents.http import CloudEvent

from functions.edge.leaderboard_args import leaderboards
from shared.errors import InvalidInputError
from shared.events import decode_pubsub_event
from shared.schemas.messages import BacktestCompleted, PortfolioSnapshotted
from shared.services.leaderboard import refresh_if_due
from shared.services.paper_snapshots import record_snapshot

BACKTEST_NAME = "farm-on-backtest-result-leaderboard"
PAPER_NAME = "farm-on-performance-update"
log = logging.getLogger(__name__)


@functions_framework.cloud_event
def on_backtest_result_leaderboard(event: CloudEvent) -> None:
    """Re-rank the backtest leaderboard after a successful run."""
    try:
        result = BacktestCompleted.decode(decode_pubsub_event(event).data)
    except InvalidInputError as exc:
        log.error("dropping backtest result %s: %s", event["id"], exc.message)
        return
    if result.status == "succeeded":
        refresh_if_due("backtest", leaderboards())


@functions_framework.cloud_event
def on_performance_update(event: CloudEvent) -> None:
    """Store a paper-trading snapshot once and re-rank the paper leaderboard."""
    try:
        snapshot = PortfolioSnapshotted.decode(decode_pubsub_event(event).data)
        ports = leaderboards()
        record_snapshot(snapshot, warehouse=ports.warehouse)
    except InvalidInputError as exc:
        log.error("dropping performance update %s: %s", event["id"], exc.message)
        return
    refresh_if_due("paper", ports)
