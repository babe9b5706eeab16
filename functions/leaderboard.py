"""GET /api/leaderboard: the public ranking, from the cache or (on a miss) the warehouse."""

from __future__ import annotations

import flask
import functions_framework

from functions.edge.http import http_endpoint
from functions.edge.leaderboard_args import leaderboards, ranking_from
from functions.edge.server_timing import server_timed
from shared.services.leaderboard import CACHE_TTL_S, leaderboard, parse_limit

NAME = "farm-leaderboard"


@functions_framework.http
@server_timed
@http_endpoint(NAME)
def leaderboard_page(request: flask.Request) -> flask.Response:
    """Rank agents by `metric` over `period` in `mode`; `limit` (1..1000) entries."""
    page = leaderboard(ranking_from(request), parse_limit(request.args.get("limit")), leaderboards())
    response = flask.Response(page.render(), mimetype="application/json")
    response.headers["Cache-Control"] = f"public, max-age={int(CACHE_TTL_S)}"
    return response
