"""Cache and rate-limit ports on Redis (Memorystore in the cloud, redis-server locally).

`connect` builds a client that opens connections lazily; the adapters share it. Sorted sets
are replaced in one MULTI/EXEC (build a temp key, RENAME over the live one), so a reader sees
the old ranking or the new one. Rate limits run GCRA in one Lua script (EVALSHA, loaded on
first use) on the server's own clock (TIME), so every process agrees on time and order.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import cast

import redis

from shared.adapters.cache_rules import check_score, check_ttl, gcra_params
from shared.errors import FarmError, InvalidInputError, TransientError
from shared.ports.cache import RateDecision

RATE_KEY_PREFIX = "farm:rate:"


def connect(url: str, *, timeout_s: float = 2.0) -> redis.Redis:
    """Return a client for `url` (`redis://host:port/db`); no connection is opened yet."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise InvalidInputError(f"Redis URL needs redis://, rediss:// or unix://, got {url!r}")
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        health_check_interval=30,
        decode_responses=False,
    )


class RedisCache:
    """Values and sorted sets in Redis."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def close(self) -> None:
        """Close the client's connections."""
        self._client.close()

    def get(self, key: str) -> bytes | None:
        """The value, or None when missing or expired."""
        with _translated(key):  # the client is built without decode_responses: values are bytes
            return cast(bytes | None, self._client.get(key))

    def set(self, key: str, value: bytes, *, ttl_s: float | None = None) -> None:
        """Store a value, expiring after `ttl_s` seconds when given."""
        if not isinstance(value, bytes | bytearray | memoryview):
            raise InvalidInputError(f"cache values are bytes, got {type(value).__name__}")
        px = None if ttl_s is None else check_ttl(ttl_s)
        with _translated(key):
            self._client.set(key, bytes(value), px=px)

    def delete(self, *keys: str) -> None:
        """Remove keys (missing ones are ignored)."""
        if keys:
            with _translated(", ".join(keys)):
                self._client.delete(*keys)

    def replace_sorted_set(
        self, key: str, scores: Mapping[str, float], *, ttl_s: float | None = None
    ) -> None:
        """Atomically replace the sorted set at `key` with `scores`."""
        mapping = {str(member): check_score(member, score) for member, score in scores.items()}
        px = None if ttl_s is None else check_ttl(ttl_s)
        tmp = f"{key}:tmp:{uuid.uuid4().hex}"
        with _translated(key):
            pipe = self._client.pipeline(transaction=True)
            if not mapping:
                pipe.delete(key)  # Redis keeps no empty sorted sets
            else:
                for chunk in _chunks(mapping, 10_000):
                    pipe.zadd(tmp, chunk)
                if px is not None:
                    pipe.pexpire(tmp, px)
                pipe.rename(tmp, key)
            pipe.execute()

    def sorted_range(
        self, key: str, start: int, stop: int, *, descending: bool = True
    ) -> list[tuple[str, float]]:
        """Members ranked `start..stop` inclusive (Redis ZRANGE semantics, -1 = last)."""
        with _translated(key):
            rows = cast(list[tuple[bytes, float]],
                        self._client.zrange(key, start, stop, desc=descending, withscores=True))
        return [(member.decode("utf-8"), float(score)) for member, score in rows]

    def sorted_rank(self, key: str, member: str, *, descending: bool = True) -> int | None:
        """0-based rank of `member`, or None when it is not in the set."""
        with _translated(key):
            rank = self._client.zrevrank(key, member) if descending else self._client.zrank(key, member)
        return cast(int | None, rank)


# KEYS[1] = the limit's key; ARGV = emission interval µs, burst window µs, cost.
# Returns {allowed (0/1), remaining, retry-after µs}; all values are whole microseconds, exact
# as Lua doubles until the year 2255. Same steps as shared.adapters.cache_rules.gcra.
_GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + cost * interval
local allow_at = new_tat - window
if allow_at > now then
  return {0, math.floor((window - (tat - now)) / interval), allow_at - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((window - (new_tat - now)) / interval), 0}
"""


class RedisRateLimiter:
    """GCRA limits per key in Redis, atomic across processes and hosts."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._script = client.register_script(_GCRA_LUA)  # EVALSHA, reloaded on NOSCRIPT

    def close(self) -> None:
        """Close the client's connections."""
        self._client.close()

    def hit(self, key: str, *, limit: int, window_s: float, cost: int = 1) -> RateDecision:
        """Count a request against `key`; atomic across processes for shared backends."""
        interval, window = gcra_params(limit, window_s, cost)
        with _translated(key):
            allowed, remaining, retry_us = self._script(
                keys=[RATE_KEY_PREFIX + key], args=[interval, window, cost]
            )
        return RateDecision(bool(allowed), int(remaining), int(retry_us) / 1_000_000)


@contextmanager
def _translated(key: str) -> Iterator[None]:
    """Re-raise redis-py errors as the platform's errors."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as exc:
        raise TransientError(f"Redis unavailable for {key!r}: {exc}") from exc
    except redis.ResponseError as exc:
        if str(exc).startswith("WRONGTYPE"):
            raise InvalidInputError(f"cache key {key!r} holds another kind of value") from exc
        raise FarmError(f"Redis refused the command for {key!r}: {exc}") from exc
    except redis.RedisError as exc:
        raise FarmError(f"Redis failed for {key!r}: {exc}") from exc


def _chunks(mapping: Mapping[str, float], size: int) -> Iterator[dict[str, float]]:
    items = list(mapping.items())
    for i in range(0, len(items), size):
        yield dict(items[i : i + size])
