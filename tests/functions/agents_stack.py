"""Test helpers for the agents API: the local application on real embedded stores, and tokens.

Rate limits live in the test Redis (they are what these tests exercise); the cache stays in
this process, so no cached answer crosses from one test to the next through the shared server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from farm.host import FunctionHost
from functions.registry import FUNCTIONS
from shared.adapters.local.memory_cache import InProcessCache
from shared.app import Application
from shared.identity.local_keys import load_or_create_signing_key
from shared.identity.minting import mint_id_token
from shared.schemas.topics import BACKTEST_REQUESTS
from tests.app_factory import embedded_app

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sma_crossover.py"
WATCHER = "test-backtest-requests"


def agent_source(variant: int = 0) -> str:
    """A valid agent; each `variant` has different code (so a different code_hash)."""
    return EXAMPLE.read_text() + f"\n\nVARIANT = {variant}\n"


def local_platform(data_dir: Path, redis_url: str, rate_limits: tuple[str, ...] = (), **settings: Any) -> Application:
    """Embedded stores under `data_dir`, every table created; rate limits in the test Redis."""
    app = embedded_app(data_dir, redis_url=redis_url, rate_limits=rate_limits, cache=InProcessCache(), **settings)
    app.warehouse.ensure_tables()  # the leaderboard/FMEL routes in the same host read it
    return app


class Tokens:
    """Mint local ID tokens for any user, as `farm token` does."""

    def __init__(self, data_dir: Path) -> None:
        self._key = load_or_create_signing_key(data_dir)

    def __call__(self, uid: str, **kwargs: Any) -> str:
        return mint_id_token(self._key, uid, **kwargs)

    def header(self, uid: str, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self(uid, **kwargs)}"}

    def expired(self, uid: str) -> str:
        return self(uid, ttl_s=60, now=time.time() - 3600)


@contextmanager
def running_host(platform: Application) -> Iterator[FunctionHost]:
    """The registry's functions on a real port, with a subscription watching backtest requests."""
    platform.messages.create_topic(BACKTEST_REQUESTS)
    platform.messages.create_subscription(WATCHER, BACKTEST_REQUESTS)
    host = FunctionHost(platform, FUNCTIONS, port=0).start()
    try:
        yield host
    finally:
        host.stop()
        platform.close()
