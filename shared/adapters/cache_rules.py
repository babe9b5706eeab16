"""Rules shared by the cache and rate-limit adapters, so Redis and in-process agree exactly.

GCRA (the generic cell rate algorithm) keeps one number per key, the theoretical arrival time
(TAT): a request of cost c moves it c emission intervals later, and is refused when that would
put it more than one window ahead of now. It allows `limit` requests in a burst, then one per
`window / limit`, needs no clean-up job, and fits in one atomic Redis script.
"""

from __future__ import annotations

import math

from shared.errors import InvalidInputError


def gcra_params(limit: int, window_s: float, cost: int) -> tuple[int, int]:
    """Return (emission interval, burst window) in whole microseconds; check the arguments."""
    if not isinstance(limit, int) or limit < 1:
        raise InvalidInputError(f"rate limit must be a positive integer, got {limit!r}")
    if not isinstance(cost, int) or not 1 <= cost <= limit:
        raise InvalidInputError(f"rate-limit cost must be an integer in 1..{limit}, got {cost!r}")
    if not isinstance(window_s, int | float) or not math.isfinite(window_s) or window_s <= 0:
        raise InvalidInputError(f"rate-limit window must be positive seconds, got {window_s!r}")
    # Whole microseconds keep the arithmetic exact; the window grows by under `limit` µs.
    interval = max(1, math.ceil(window_s * 1_000_000 / limit))
    return interval, interval * limit


def gcra(tat: int, now: int, interval: int, window: int, cost: int) -> tuple[bool, int, int, int]:
    """One GCRA step: (allowed, new TAT, remaining, retry-after µs). Mirrors the Redis script."""
    tat = max(tat, now)
    new_tat = tat + cost * interval
    allow_at = new_tat - window
    if allow_at > now:
        return False, tat, (window - (tat - now)) // interval, allow_at - now
    return True, new_tat, (window - (new_tat - now)) // interval, 0


def check_ttl(ttl_s: float) -> int:
    """Return a TTL in whole milliseconds (at least 1); InvalidInputError when not positive."""
    if isinstance(ttl_s, bool) or not isinstance(ttl_s, int | float):
        raise InvalidInputError(f"ttl_s must be a number of seconds, got {ttl_s!r}")
    if not math.isfinite(ttl_s) or ttl_s <= 0:
        raise InvalidInputError(f"ttl_s must be positive, got {ttl_s!r}")
    return max(1, round(ttl_s * 1000))


def check_score(member: object, score: float) -> float:
    """Return `score` as a float; InvalidInputError when it is not a number (NaN included)."""
    if isinstance(score, bool) or not isinstance(score, int | float) or math.isnan(score):
        raise InvalidInputError(f"score for {member!r} must be a number, got {score!r}")
    return float(score)


def clamp(start: int, stop: int, size: int) -> tuple[int, int]:
    """Turn ZRANGE indices (negative = from the end) into an inclusive in-bounds range."""
    if start < 0:
        start = max(0, size + start)
    if stop < 0:
        stop = size + stop
    return start, min(stop, size - 1)
