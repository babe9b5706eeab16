"""`Server-Timing` on a response: how long the whole function took, edge included.

Clients (and the leaderboard benchmark) read `Server-Timing: app;dur=<ms>` to separate the
server's time from the network's.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import flask

Endpoint = Callable[[flask.Request], flask.Response]


def server_timed(endpoint: Endpoint) -> Endpoint:
    """Wrap an HTTP entry point so every response carries its server-side duration."""

    @functools.wraps(endpoint)
    def timed(request: flask.Request) -> flask.Response:
        started = time.perf_counter()
        response = endpoint(request)
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.3f}"
        return response

    return timed
