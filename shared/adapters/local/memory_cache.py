"""Cache and rate-limit ports in process memory: the fallback when no Redis is configured.

Same semantics as the Redis adapters (TTLs, ZRANGE-style ranges, GCRA limits), one lock per
object so threads agree. Time is `time.monotonic_ns`, so wall-clock jumps change nothing.
State lives in one process: several processes each get their own limits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shared.adapters.cache_rules import check_score, check_ttl, clamp, gcra, gcra_params
from shared.errors import InvalidInputError
from shared.ports.cache import RateDecision

Clock = Callable[[], int]  # nanoseconds, monotonic


@dataclass
class _SortedSet:
    ascending: list[tuple[str, float]]
    ranks: dict[str, int]  # member -> ascending rank


@dataclass
class _Entry:
    value: bytes | _SortedSet
    expires_ns: int | None


class InProcessCache:
    """Values and sorted sets in a dict, expiring on a monotonic clock."""

    def __init__(self, *, clock: Clock = time.monotonic_ns) -> None:
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """The value, or None when missing or expired."""
        with self._lock:
            entry = self._live(key)
        if entry is None:
            return None
        if not isinstance(entry.value, bytes):
            raise InvalidInputError(f"cache key {key!r} holds a sorted set, not a value")
        return entry.value

    def set(self, key: str, value: bytes, *, ttl_s: float | None = None) -> None:
        """Store a value, expiring after `ttl_s` seconds when given."""
        if not isinstance(value, bytes | bytearray | memoryview):
            raise InvalidInputError(f"cache values are bytes, got {type(value).__name__}")
        expires = self._expiry(ttl_s)
        with self._lock:
            self._entries[key] = _Entry(bytes(value), expires)

    def delete(self, *keys: str) -> None:
        """Remove keys (missing ones are ignored)."""
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)

    def replace_sorted_set(
        self, key: str, scores: Mapping[str, float], *, ttl_s: float | None = None
    ) -> None:
        """Atomically replace the sorted set at `key` with `scores`."""
        ordered = sorted((str(m), check_score(m, s)) for m, s in scores.items())
        ordered.sort(key=lambda item: item[1])  # stable: ties stay in member order, as in Redis
        sorted_set = _SortedSet(ordered, {member: i for i, (member, _) in enumerate(ordered)})
        expires = self._expiry(ttl_s)
        with self._lock:
            if ordered:
                self._entries[key] = _Entry(sorted_set, expires)
            else:
                self._entries.pop(key, None)  # Redis keeps no empty sorted sets

    def sorted_range(
        self, key: str, start: int, stop: int, *, descending: bool = True
    ) -> list[tuple[str, float]]:
        """Members ranked `start..stop` inclusive (Redis ZRANGE semantics, -1 = last)."""
        sorted_set = self._sorted_set(key)
        if sorted_set is None:
            return []
        items = sorted_set.ascending
        size = len(items)
        first, last = clamp(start, stop, size)
        if first > last:
            return []
        if descending:
            return [items[size - 1 - i] for i in range(first, last + 1)]
        return items[first : last + 1]

    def sorted_rank(self, key: str, member: str, *, descending: bool = True) -> int | None:
        """0-based rank of `member`, or None when it is not in the set."""
        sorted_set = self._sorted_set(key)
        if sorted_set is None or member not in sorted_set.ranks:
            return None
        rank = sorted_set.ranks[member]
        return len(sorted_set.ascending) - 1 - rank if descending else rank

    def close(self) -> None:
        """Drop every entry (the cache lives in this object)."""
        with self._lock:
            self._entries.clear()

    def _sorted_set(self, key: str) -> _SortedSet | None:
        with self._lock:
            entry = self._live(key)
        if entry is None:
            return None
        if not isinstance(entry.value, _SortedSet):
            raise InvalidInputError(f"cache key {key!r} holds a value, not a sorted set")
        return entry.value

    def _live(self, key: str) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and entry.expires_ns is not None and entry.expires_ns <= self._clock():
            del self._entries[key]
            return None
        return entry

    def _expiry(self, ttl_s: float | None) -> int | None:
        if ttl_s is None:
            return None
        return self._clock() + check_ttl(ttl_s) * 1_000_000  # whole ms, like Redis PX

    def __len__(self) -> int:
        with self._lock:
            return sum(1 for key in list(self._entries) if self._live(key) is not None)


class InProcessRateLimiter:
    """GCRA limits per key, kept in a dict (expired keys are dropped as it grows)."""

    def __init__(self, *, clock: Clock = time.monotonic_ns, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._tats: dict[str, int] = {}  # key -> theoretical arrival time, microseconds
        self._lock = threading.Lock()

    def hit(self, key: str, *, limit: int, window_s: float, cost: int = 1) -> RateDecision:
        """Count a request against `key`; atomic across the threads of this process."""
        interval, window = gcra_params(limit, window_s, cost)
        with self._lock:
            now = self._clock() // 1_000
            if len(self._tats) >= self._max_keys:
                self._tats = {k: t for k, t in self._tats.items() if t > now}
            allowed, new_tat, remaining, retry_us = gcra(
                self._tats.get(key, now), now, interval, window, cost
            )
            if allowed:
                self._tats[key] = new_tat
        return RateDecision(allowed, remaining, retry_us / 1_000_000)

    def close(self) -> None:
        """Forget every key (the limits live in this object)."""
        with self._lock:
            self._tats.clear()
