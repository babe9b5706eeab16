"""Query-string decoding shared by the leaderboard routes."""

from __future__ import annotations

import flask

from functions import _platform
from shared.leaderboard.scoring import DEFAULT_METRIC, DEFAULT_MODE, DEFAULT_PERIOD, Ranking
from shared.services.leaderboard import Leaderboards


def ranking_from(request: flask.Request) -> Ranking:
    """The ranking a request names (`mode`, `metric`, `period`); 400 for unknown values."""
    args = request.args
    return Ranking(
        mode=args.get("mode") or DEFAULT_MODE,  # type: ignore[arg-type]  # checked by Ranking
        metric=args.get("metric") or DEFAULT_METRIC,  # type: ignore[arg-type]
        period=args.get("period") or DEFAULT_PERIOD,  # type: ignore[arg-type]
    )


def leaderboards() -> Leaderboards:
    """The leaderboard's ports from the process's platform."""
    platform = _platform.platform()
    return Leaderboards(platform.warehouse, platform.cache, platform.documents)
