"""Cache and rate-limit ports: Redis-shaped, with an in-process fallback."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


class Cache(Protocol):
    """Short-lived values and sorted sets (leaderboards)."""

    def get(self, key: str) -> bytes | None:
        """The value, or None when missing or expired."""
        ...

    def set(self, key: str, value: bytes, *, ttl_s: float | None = None) -> None:
        """Store a value, expiring after `ttl_s` seconds when given."""
        ...

    def delete(self, *keys: str) -> None:
        """Remove keys (missing ones are ignored)."""
        ...

    def replace_sorted_set(
        self, key: str, scores: Mapping[str, float], *, ttl_s: float | None = None
    ) -> None:
        """Atomically replace the sorted set at `key` with `scores`."""
        ...

    def sorted_range(
        self, key: str, start: int, stop: int, *, descending: bool = True
    ) -> list[tuple[str, float]]:
        """Members ranked `start..stop` inclusive (Redis ZRANGE semantics, -1 = last)."""
        ...

    def sorted_rank(self, key: str, member: str, *, descending: bool = True) -> int | None:
        """0-based rank of `member`, or None when it is not in the set."""
        ...

    def close(self) -> None:
        """Release the cache's connections (the application calls it once, at the end)."""
        ...


@dataclass(frozen=True)
class RateDecision:
    """Outcome of one rate-limited request."""

    allowed: bool
    remaining: int
    retry_after_s: float  # 0 when allowed


class RateLimiter(Protocol):
    """Per-key request limits over a sliding time window."""

    def hit(self, key: str, *, limit: int, window_s: float, cost: int = 1) -> RateDecision:
        """Count a request against `key`; atomic across processes for shared backends."""
        ...

    def close(self) -> None:
        """Release the limiter's connections (the application calls it once, at the end)."""
        ...
