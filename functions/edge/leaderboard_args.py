"""Query-string decoding shared by the leaderboard routes, and their ports."""

from __future__ import annotations

import flask

from functions import _platform
from shared.leaderboard.scoring import DEFAULT_METRIC, DEFAULT_MODE, DEFAULT_PERIOD, Ranking
from shared.services.leaderboard import Leaderboards
from shared.services.market_labels import label, replay_label


def ranking_from(request: flask.Request) -> Ranking:
    """The ranking a request names (`mode`, `metric`, `period`); 400 for unknown values."""
    args = request.args
    return Ranking(
        mode=args.get("mode") or DEFAULT_MODE,  # type: ignore[arg-type]  # checked by Ranking
        metric=args.get("metric") or DEFAULT_METRIC,  # type: ignore[arg-type]
        period=args.get("period") or DEFAULT_PERIOD,  # type: ignore[arg-type]
    )


def leaderboards() -> Leaderboards:
    """The leaderboard's ports and the paper track record from the process's platform."""
    platform = _platform.platform()
    settings = platform.settings
    # Paper sessions trade on what the bus carries: the synthetic replay locally, Alpaca's on GCP.
    paper_data = replay_label() if settings.backend == "local" else label([f"alpaca-{settings.ingester_feed}"])
    return Leaderboards(platform.warehouse, platform.cache, platform.documents,
                        paper_min_days=settings.paper_min_days, paper_min_trades=settings.paper_min_trades,
                        paper_data=paper_data)
