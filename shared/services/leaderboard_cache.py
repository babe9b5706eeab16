"""The leaderboard's cached pages: how a ranking is laid out in the cache and read back.

Per ranking (docs/SPEC.md §11), both written together and expiring after CACHE_TTL_S:
- `lb:{mode}:{metric}:{period}`: sorted set, member = agent id, score = -rank (so the highest
  score is rank 1), for an agent's position;
- `lb:{mode}:{metric}:{period}:page:{n}` for n in PAGE_TIERS: the top n public entries as JSON
  lines after one header line, so a page of any `limit` is a byte slice of the smallest tier
  that holds it, not a JSON parse (and a default page never moves the 1,000-entry blob).
The header line also carries what the page says besides its entries: the standard evaluation
and its data label (backtest), the minimum track record and the agents not yet ranked (paper).
A cache that is down is logged and treated as a miss: the warehouse answers instead.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.errors import TransientError
from shared.leaderboard.scoring import Ranking
from shared.ports.cache import Cache

log = logging.getLogger(__name__)

CACHE_TTL_S = 30.0
MAX_LIMIT = 1000
PAGE_TIERS = (10, 100, MAX_LIMIT)
Source = Literal["cache", "warehouse"]


@dataclass(frozen=True)
class Page:
    """One leaderboard page, already serialised entry by entry."""

    ranking: Ranking
    source: Source
    as_of: str
    total: int
    entries: list[bytes]
    extra: dict[str, Any] = field(default_factory=dict)

    def render(self) -> bytes:
        """The response body: the page's header fields and its entries as one JSON object."""
        r = self.ranking
        head = {"mode": r.mode, "metric": r.metric, "period": r.period, "source": self.source,
                "as_of": self.as_of, "total": self.total, **self.extra}
        return json.dumps(head, separators=(",", ":"))[:-1].encode() + (
            b',"entries":[' + b",".join(self.entries) + b"]}"
        )


def store_page(ranking: Ranking, scores: dict[str, float], page: Page, cache: Cache) -> None:
    """Cache `ranking`'s positions and its page in every tier (a cache that is down: logged)."""
    header = json.dumps({"as_of": page.as_of, "total": page.total, "extra": page.extra}).encode()
    try:
        cache.replace_sorted_set(ranking.key, scores, ttl_s=CACHE_TTL_S)
        for tier in PAGE_TIERS:
            blob = b"\n".join([header, *page.entries[:tier]])
            cache.set(f"{ranking.key}:page:{tier}", blob, ttl_s=CACHE_TTL_S)
    except TransientError as exc:
        log.warning("leaderboard cache unavailable, %s not stored: %s", ranking.key, exc.message)


def cached_page(ranking: Ranking, limit: int, cache: Cache) -> Page | None:
    """The top `limit` entries of `ranking` from the cache; None on a miss."""
    try:
        blob = cache.get(page_key(ranking, limit))
    except TransientError as exc:
        log.warning("leaderboard cache unavailable, reading the warehouse: %s", exc.message)
        return None
    if blob is None:
        return None
    lines = blob.split(b"\n", limit + 1)
    header = json.loads(lines[0])
    entries = lines[1 : limit + 1]  # a last piece past the page holds the rest, unparsed
    return Page(ranking, "cache", header["as_of"], header["total"], [e for e in entries if e],
                header.get("extra") or {})


def cached_entry(agent_id: str, ranking: Ranking, cache: Cache) -> dict[str, Any] | None:
    """`agent_id`'s public entry in `ranking` from the cache; None when not within a cached page."""
    try:
        rank = cache.sorted_rank(ranking.key, agent_id)
        page = cache.get(page_key(ranking, rank + 1)) if rank is not None else None
    except TransientError as exc:
        log.warning("leaderboard cache unavailable, reading the warehouse: %s", exc.message)
        return None
    if rank is None or page is None:
        return None
    lines = page.split(b"\n", rank + 2)
    if rank + 1 >= len(lines):  # ranks beyond the cached top page come from the warehouse
        return None
    entry: dict[str, Any] = json.loads(lines[rank + 1])
    return entry if entry["agent_id"] == agent_id else None


def page_key(ranking: Ranking, size: int) -> str:
    """The cached page of the smallest tier holding `size` entries."""
    tier = next((t for t in PAGE_TIERS if size <= t), PAGE_TIERS[-1])
    return f"{ranking.key}:page:{tier}"
