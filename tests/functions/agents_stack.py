"""Test helpers for the agents API: a local Platform on real embedded stores, and tokens.

The platform is wired by hand rather than with `bootstrap()` so these tests need only the
stores the agents API touches (documents, messages, blobs, the rate limiter, identity).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from farm.host import FunctionHost
from functions.registry import FUNCTIONS
from shared.adapters.local.blobs import DirectoryBlobStore
from shared.adapters.local.documents import SqliteDocumentStore
from shared.adapters.local.local_identity import LocalIdentityVerifier
from shared.adapters.local.memory_cache import InProcessCache
from shared.adapters.local.messages import EmbeddedMessageBus
from shared.adapters.redis_cache import RedisRateLimiter, connect
from shared.bootstrap import Platform
from shared.identity.local_keys import load_or_create_signing_key
from shared.identity.minting import mint_id_token
from shared.schemas.topics import BACKTEST_REQUESTS
from shared.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sma_crossover.py"
WATCHER = "test-backtest-requests"


def agent_source(variant: int = 0) -> str:
    """A valid agent; each `variant` has different code (so a different code_hash)."""
    return EXAMPLE.read_text() + f"\n\nVARIANT = {variant}\n"


def local_platform(data_dir: Path, redis_url: str, rate_limits: tuple[str, ...] = ()) -> Platform:
    """Embedded documents, bus and blobs under `data_dir`; rate limits in the test Redis."""
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(backend="local", data_dir=data_dir, redis_url=redis_url,
                        rate_limits=rate_limits)
    return Platform(
        settings=settings,
        documents=SqliteDocumentStore(data_dir / "documents.sqlite3"),
        messages=EmbeddedMessageBus(data_dir / "messages.sqlite3"),
        warehouse=_warehouse(data_dir),  # the leaderboard/FMEL routes in the same host read it
        blobs=DirectoryBlobStore(data_dir / "blobs"),
        cache=InProcessCache(),
        rate_limiter=RedisRateLimiter(connect(redis_url)),
        identity=LocalIdentityVerifier(data_dir),
    )


def _warehouse(data_dir: Path) -> Any:
    # The DuckDB adapter when the tree has it (the agents API itself never touches it).
    try:
        from shared.adapters.local.warehouse import DuckDbWarehouse
    except ImportError:
        return None
    warehouse = DuckDbWarehouse(data_dir / "warehouse.duckdb")
    warehouse.ensure_tables()
    return warehouse


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
def running_host(platform: Platform) -> Iterator[FunctionHost]:
    """The registry's functions on a real port, with a subscription watching backtest requests."""
    platform.messages.create_topic(BACKTEST_REQUESTS)
    platform.messages.create_subscription(WATCHER, BACKTEST_REQUESTS)
    host = FunctionHost(platform, FUNCTIONS, port=0).start()
    try:
        yield host
    finally:
        host.stop()
        platform.identity.close()  # type: ignore[attr-defined]
        platform.documents.close()  # type: ignore[attr-defined]
        platform.messages.close()  # type: ignore[attr-defined]
