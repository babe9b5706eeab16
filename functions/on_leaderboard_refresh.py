"""Pub/Sub `backtest-results` and `performance-updates` -> re-rank and refill the leaderboard cache.

Separate from the function that records backtest results: each has its own subscription. A
malformed message is permanent (logged and acknowledged by the edge); a warehouse failure
raises so the message comes back.
"""

from __future__ import annotations

import functions_framework

from functions.edge.events import event_endpoint, pubsub_message
from functions.edge.leaderboard_args import leaderboards
from shared.schemas.messages import BacktestCompleted, PortfolioSnapshotted
from shared.services.leaderboard import refresh_if_due
from shared.services.paper_snapshots import record_snapshot

BACKTEST_NAME = "farm-on-backtest-result-leaderboard"
PAPER_NAME = "farm-on-performance-update"


@functions_framework.cloud_event
@event_endpoint(pubsub_message(BacktestCompleted))
def on_backtest_result_leaderboard(result: BacktestCompleted) -> None:
    """Re-rank the backtest leaderboard after a successful run."""
    if result.status == "succeeded":
        refresh_if_due("backtest", leaderboards())


@functions_framework.cloud_event
@event_endpoint(pubsub_message(PortfolioSnapshotted))
def on_performance_update(snapshot: PortfolioSnapshotted) -> None:
    """Store a paper-trading snapshot once and re-rank the paper leaderboard."""
    ports = leaderboards()
    record_snapshot(snapshot, warehouse=ports.warehouse)
    refresh_if_due("paper", ports)
