"""Contract of the RateLimiter port, run against the in-process limiter and a real redis-server."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Iterator

import pytest
import redis

from shared.adapters.local.memory_cache import InProcessRateLimiter
from shared.adapters.redis_cache import RATE_KEY_PREFIX, RedisRateLimiter, connect
from shared.errors import InvalidInputError
from shared.ports import RateLimiter

LIMIT, WINDOW = 5, 0.5  # 5 per half second keeps the tests that wait fast
LONG = 60.0  # for tests that must not see capacity come back, however slow the machine


@pytest.fixture(params=["in_process", "redis"])
def limiter(request: pytest.FixtureRequest) -> Iterator[RateLimiter]:
    if request.param == "in_process":
        yield InProcessRateLimiter()
    else:
        yield RedisRateLimiter(request.getfixturevalue("redis_client"))


def burst(limiter: RateLimiter, key: str, n: int, window_s: float = WINDOW) -> list[bool]:
    return [limiter.hit(key, limit=LIMIT, window_s=window_s).allowed for _ in range(n)]


def test_a_burst_of_limit_requests_is_allowed_and_the_next_denied(limiter: RateLimiter) -> None:
    decisions = [limiter.hit("u1", limit=LIMIT, window_s=LONG) for _ in range(LIMIT + 1)]
    assert [d.allowed for d in decisions] == [True] * LIMIT + [False]
    denied = decisions[-1]
    assert 0 < denied.retry_after_s <= LONG
    assert denied.remaining == 0
    assert all(d.retry_after_s == 0 for d in decisions[:-1])


def test_remaining_counts_down_to_zero(limiter: RateLimiter) -> None:
    remaining = [limiter.hit("u1", limit=LIMIT, window_s=LONG).remaining for _ in range(LIMIT)]
    assert remaining == [4, 3, 2, 1, 0]


def test_a_denied_request_is_allowed_after_waiting_retry_after(limiter: RateLimiter) -> None:
    burst(limiter, "u1", LIMIT)
    denied = limiter.hit("u1", limit=LIMIT, window_s=WINDOW)
    assert not denied.allowed
    time.sleep(denied.retry_after_s)
    assert limiter.hit("u1", limit=LIMIT, window_s=WINDOW).allowed


def test_a_denied_request_does_not_use_up_capacity(limiter: RateLimiter) -> None:
    burst(limiter, "u1", LIMIT, LONG)
    first = limiter.hit("u1", limit=LIMIT, window_s=LONG)
    for _ in range(20):
        limiter.hit("u1", limit=LIMIT, window_s=LONG)
    again = limiter.hit("u1", limit=LIMIT, window_s=LONG)
    assert not again.allowed
    assert again.retry_after_s <= first.retry_after_s


def test_the_full_burst_returns_after_one_window(limiter: RateLimiter) -> None:
    burst(limiter, "u1", LIMIT)
    time.sleep(WINDOW)
    assert burst(limiter, "u1", LIMIT + 1) == [True] * LIMIT + [False]


def test_keys_are_limited_independently(limiter: RateLimiter) -> None:
    assert burst(limiter, "alice", LIMIT + 1, LONG) == [True] * LIMIT + [False]
    assert burst(limiter, "bob", LIMIT, LONG) == [True] * LIMIT
    assert limiter.hit("alice:submissions", limit=2, window_s=60).allowed


def test_a_costly_request_uses_several_units(limiter: RateLimiter) -> None:
    first = limiter.hit("u1", limit=LIMIT, window_s=LONG, cost=3)
    assert first.allowed and first.remaining == 2
    refused = limiter.hit("u1", limit=LIMIT, window_s=LONG, cost=3)
    assert not refused.allowed and refused.remaining == 2
    assert 0 < refused.retry_after_s <= LONG
    fits = limiter.hit("u1", limit=LIMIT, window_s=LONG, cost=2)
    assert fits.allowed and fits.remaining == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"limit": 0, "window_s": 1.0},
        {"limit": -3, "window_s": 1.0},
        {"limit": 5, "window_s": 0},
        {"limit": 5, "window_s": -1.0},
        {"limit": 5, "window_s": float("nan")},
        {"limit": 5, "window_s": 1.0, "cost": 0},
        {"limit": 5, "window_s": 1.0, "cost": 6},
        {"limit": 2.5, "window_s": 1.0},
    ],
)
def test_impossible_limits_are_rejected(limiter: RateLimiter, kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidInputError):
        limiter.hit("u1", **kwargs)  # type: ignore[arg-type]


def test_concurrent_hits_on_one_key_allow_exactly_the_limit(limiter: RateLimiter) -> None:
    allowed: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def hammer() -> None:
        start.wait()
        mine = [limiter.hit("hot", limit=20, window_s=LONG).allowed for _ in range(50)]
        with lock:
            allowed.extend(mine)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 400 and sum(allowed) == 20


def test_in_process_limits_follow_the_clock_exactly() -> None:
    now = [1_000_000_000_000]
    limiter = InProcessRateLimiter(clock=lambda: now[0])
    allowed = [limiter.hit("k", limit=4, window_s=1.0).allowed for _ in range(5)]
    assert allowed == [True] * 4 + [False]
    assert limiter.hit("k", limit=4, window_s=1.0).retry_after_s == pytest.approx(0.25)
    now[0] += 249_999_000  # 1 µs short of one emission interval
    assert not limiter.hit("k", limit=4, window_s=1.0).allowed
    now[0] += 1_000
    decision = limiter.hit("k", limit=4, window_s=1.0)
    assert decision.allowed and decision.remaining == 0


# -- Redis-specific guarantees ----------------------------------------------------------------


def test_redis_limit_keys_expire_on_their_own(redis_client: redis.Redis) -> None:
    limiter = RedisRateLimiter(redis_client)
    burst(limiter, "u1", 3)
    ttl_ms = redis_client.pttl(RATE_KEY_PREFIX + "u1")
    assert 0 < ttl_ms <= WINDOW * 1000
    time.sleep(ttl_ms / 1000 + 0.05)
    assert redis_client.exists(RATE_KEY_PREFIX + "u1") == 0


def test_redis_limiter_survives_a_script_cache_flush(redis_client: redis.Redis) -> None:
    limiter = RedisRateLimiter(redis_client)
    assert limiter.hit("u1", limit=LIMIT, window_s=LONG).allowed
    redis_client.script_flush()
    assert limiter.hit("u1", limit=LIMIT, window_s=LONG).remaining == LIMIT - 2


def _hit_from_another_process(url: str, n: int) -> int:
    limiter = RedisRateLimiter(connect(url))
    return sum(limiter.hit("shared", limit=30, window_s=60).allowed for _ in range(n))


def test_redis_limits_hold_across_processes(redis_url: str, redis_client: redis.Redis) -> None:
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        allowed = pool.starmap(_hit_from_another_process, [(redis_url, 40)] * 3)
    assert sum(allowed) == 30
    assert not RedisRateLimiter(redis_client).hit("shared", limit=30, window_s=60).allowed
