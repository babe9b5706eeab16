"""Per-user rate-limit classes (SPEC §4) and the one check the HTTP edge runs.

Defaults: 100 requests/min overall, 10 submissions/min, 5 backtests/min, 3 paper-trading
starts/min. `FARM_RATE_LIMITS="requests=100/60,submissions=10/60"` overrides any of them.
Counters live under `rl:{uid}:{class}` (SPEC §11) in the RateLimiter port.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from shared.errors import RateLimitedError, SettingsError
from shared.ports.cache import RateLimiter


@dataclass(frozen=True)
class Limit:
    """At most `count` hits per `window_s` seconds."""

    count: int
    window_s: float

    def __str__(self) -> str:
        return f"{self.count}/{self.window_s:g}s"


REQUESTS = "requests"
SUBMISSIONS = "submissions"
BACKTESTS = "backtests"
PAPER_STARTS = "paper_starts"
DEFAULT_LIMITS: Mapping[str, Limit] = MappingProxyType(
    {
        REQUESTS: Limit(100, 60.0),
        SUBMISSIONS: Limit(10, 60.0),
        BACKTESTS: Limit(5, 60.0),
        PAPER_STARTS: Limit(3, 60.0),
    }
)
_ENTRY = re.compile(r"(?P<cls>\w+)\s*=\s*(?P<count>\d+)\s*/\s*(?P<window>\d+(?:\.\d+)?)")


@functools.lru_cache(maxsize=16)
def parse_limits(entries: tuple[str, ...]) -> Mapping[str, Limit]:
    """Return the default limits with `entries` ("class=count/window_s") applied over them."""
    limits = dict(DEFAULT_LIMITS)
    for entry in entries:
        match = _ENTRY.fullmatch(entry.strip())
        if match is None:
            raise SettingsError(
                f"FARM_RATE_LIMITS entry {entry!r} is not 'class=count/window_seconds' "
                f"(e.g. 'requests=100/60')"
            )
        name, count, window = match["cls"], int(match["count"]), float(match["window"])
        if name not in DEFAULT_LIMITS:
            raise SettingsError(
                f"FARM_RATE_LIMITS names unknown class {name!r}; known: {', '.join(DEFAULT_LIMITS)}"
            )
        if count < 1 or window <= 0:
            raise SettingsError(f"FARM_RATE_LIMITS entry {entry!r}: count and window must be > 0")
        limits[name] = Limit(count, window)
    return MappingProxyType(limits)


def rate_key(uid: str, limit_class: str) -> str:
    """The counter key of one user's class (SPEC §11: `rl:{uid}:{class}`)."""
    return f"rl:{uid}:{limit_class}"


def enforce(
    limiter: RateLimiter, uid: str, classes: Iterable[str], limits: Mapping[str, Limit]
) -> None:
    """Count one hit in each class for `uid`; RateLimitedError at the first one over its limit.

    Classes are checked in order, so put the overall `requests` class first: a request refused
    there does not use up a submission.
    """
    for name in classes:
        limit = limits.get(name)
        if limit is None:
            raise KeyError(f"unknown rate-limit class {name!r}; known: {', '.join(limits)}")
        decision = limiter.hit(rate_key(uid, name), limit=limit.count, window_s=limit.window_s)
        if not decision.allowed:
            raise RateLimitedError(
                f"rate limit for {name} exceeded ({limit}); retry in "
                f"{decision.retry_after_s:.1f}s",
                retry_after_s=decision.retry_after_s,
                details={"limit_class": name, "limit": limit.count, "window_s": limit.window_s},
            )
