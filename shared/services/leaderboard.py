"""Leaderboard use cases: rank in the warehouse, serve from the cache, refresh on new results.

The cache layout is `leaderboard_cache`'s (docs/SPEC.md §11). A miss, or a cache that is down,
falls back to the warehouse (`source: warehouse`); a miss also refills the cache for every
metric of that mode and period (one query ranks them all).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from shared.errors import InvalidInputError, NotFoundError, TransientError
from shared.leaderboard.entries import DisplayNames, public_entry
from shared.leaderboard.queries import PAPER_PENDING, RANKING_SQL
from shared.leaderboard.scoring import (
    METRICS,
    MIN_OBSERVATIONS,
    MIN_TRADES,
    PAPER_BUCKET_S,
    PAPER_MIN_DAYS,
    PAPER_MIN_TRADES,
    PERIODS,
    Mode,
    Period,
    Ranking,
    not_yet_ranked,
    period_start,
)
from shared.ports.cache import Cache
from shared.ports.documents import DocumentStore
from shared.ports.warehouse import Warehouse
from shared.services.leaderboard_cache import (
    CACHE_TTL_S,
    MAX_LIMIT,
    Page,
    Source,
    cached_entry,
    cached_page,
    store_page,
)
from shared.services.market_labels import bars_label
from shared.services.standard_evaluation import StandardEvaluation, proposed, standard_evaluation

log = logging.getLogger(__name__)

__all__ = [
    "CACHE_TTL_S", "DEFAULT_LIMIT", "MAX_LIMIT", "Leaderboards", "Page", "agent_standing", "leaderboard",
    "mode_parameters", "parse_limit", "ranking_rows", "refresh", "refresh_if_due",
]

DEFAULT_LIMIT = 100
PENDING_SHOWN = 100  # agents not yet ranked listed on a paper page
ALL_ROWS = 2**62  # `@limit` when every ranked agent is wanted
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Leaderboards:
    """The ports the leaderboard reads and writes."""

    warehouse: Warehouse
    cache: Cache
    documents: DocumentStore | None = None
    clock: Clock = utc_now
    evaluation: StandardEvaluation | None = None  # None: the recorded one (documents)
    paper_min_days: float = PAPER_MIN_DAYS
    paper_min_trades: int = PAPER_MIN_TRADES
    paper_bucket_s: int = PAPER_BUCKET_S
    paper_data: dict[str, Any] | None = None  # the paper market's data label, when known

    def standard(self) -> StandardEvaluation:
        """The evaluation backtests are ranked on."""
        if self.evaluation is not None:
            return self.evaluation
        if self.documents is not None:
            return standard_evaluation(self.documents)
        return proposed(self.clock())


def parse_limit(raw: str | None) -> int:
    """The page size from a query string value: 1..MAX_LIMIT, DEFAULT_LIMIT when absent."""
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise InvalidInputError(f"limit must be an integer from 1 to {MAX_LIMIT}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(f"limit must be an integer from 1 to {MAX_LIMIT}; got {limit}")
    return limit


def leaderboard(ranking: Ranking, limit: int, ports: Leaderboards) -> Page:
    """The top `limit` agents of `ranking`, from the cache when it has them."""
    cached = cached_page(ranking, limit, ports.cache)
    if cached is not None:
        return cached
    pages = _rebuild(ranking.mode, ranking.period, ports)
    page = pages[ranking.metric]
    return Page(ranking, "warehouse", page.as_of, page.total, page.entries[:limit], page.extra)


def agent_standing(agent_id: str, ranking: Ranking, ports: Leaderboards) -> dict[str, Any]:
    """One agent's rank, metrics and score in `ranking`; NotFoundError when it is not ranked."""
    cached = cached_entry(agent_id, ranking, ports.cache)
    if cached is not None:
        return _standing(ranking, "cache", cached)
    as_of = ports.clock()
    rows = _query(ranking, ports, as_of=as_of, agent_id=agent_id)
    names = DisplayNames(ports.documents)
    if not rows:
        pending = _pending(ranking, ports, as_of, agent_id=agent_id, limit=1) if ranking.mode == "paper" else []
        if not pending:
            raise NotFoundError(
                f"agent {agent_id} is not on the {ranking.mode} leaderboard for period {ranking.period}"
            )
        return _standing(ranking, "warehouse", None) | {"ranked": False, **_pending_entry(pending[0], names, ports)}
    entry = public_entry(rows[0], int(rows[0]["rank"]), names(rows[0]["user_id"]))
    return _standing(ranking, "warehouse", entry)


def refresh(mode: Mode, ports: Leaderboards) -> int:
    """Rebuild every cached ranking of `mode` from the warehouse; return the entries ranked."""
    return sum(next(iter(_rebuild(mode, period, ports).values())).total for period in PERIODS)


def ranking_rows(
    warehouse: Warehouse, ranking: Ranking, *, as_of: datetime, limit: int = ALL_ROWS, agent_id: str = "",
    mode_params: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Run the ranking query: rows ordered by the metric's rank, each with every metric's rank.

    `mode_params` are the mode's own parameters (mode_parameters()); the defaults when absent.
    """
    params = {
        "since": period_start(ranking.period, as_of), "as_of": as_of, "metric": ranking.metric,
        "min_trades": MIN_TRADES, "min_observations": MIN_OBSERVATIONS, "limit": limit,
        "agent_id": agent_id, **(mode_params or _default_parameters(ranking.mode)),
    }
    return warehouse.query(RANKING_SQL[ranking.mode], params)


def mode_parameters(mode: Mode, ports: Leaderboards) -> dict[str, Any]:
    """The parameters only one mode's query takes: the standard window, or the paper track record."""
    if mode == "backtest":
        return _backtest_parameters(ports.standard())
    return _paper_parameters(ports.paper_bucket_s, ports.paper_min_days, ports.paper_min_trades)


def _default_parameters(mode: Mode) -> dict[str, Any]:
    if mode == "backtest":
        return _backtest_parameters(proposed(utc_now()))
    return _paper_parameters(PAPER_BUCKET_S, PAPER_MIN_DAYS, PAPER_MIN_TRADES)


def _backtest_parameters(std: StandardEvaluation) -> dict[str, Any]:
    return {"std_start": _day(std.start), "std_end": _day(std.end), "std_timeframe": std.timeframe}


def _paper_parameters(bucket_s: int, min_days: float, min_trades: int) -> dict[str, Any]:
    return {"bucket_s": bucket_s, "min_days": float(min_days), "min_paper_trades": min_trades}


def _query(ranking: Ranking, ports: Leaderboards, *, as_of: datetime, agent_id: str = "") -> list[dict[str, Any]]:
    return ranking_rows(ports.warehouse, ranking, as_of=as_of, agent_id=agent_id,
                        mode_params=mode_parameters(ranking.mode, ports))


def _pending(
    ranking: Ranking, ports: Leaderboards, as_of: datetime, *, agent_id: str = "", limit: int = PENDING_SHOWN
) -> list[dict[str, Any]]:
    params = {"since": period_start(ranking.period, as_of), "as_of": as_of, "agent_id": agent_id,
              "limit": limit, **mode_parameters("paper", ports)}
    return ports.warehouse.query(PAPER_PENDING, params)


def _pending_entry(row: dict[str, Any], names: DisplayNames, ports: Leaderboards) -> dict[str, Any]:
    needs = not_yet_ranked(row.get("days"), row.get("trades"), ports.paper_min_days, ports.paper_min_trades)
    return {"agent_id": row["agent_id"], "agent_name": row.get("agent_name") or row["agent_id"],
            "owner": names(row["user_id"]), "days": round(float(row.get("days") or 0.0), 3),
            "trades": row.get("trades") or 0, "not_ranked": needs["message"],
            "days_remaining": needs["days_remaining"], "trades_remaining": needs["trades_remaining"]}


def _extra(mode: Mode, period: Period, as_of: datetime, names: DisplayNames, ports: Leaderboards) -> dict[str, Any]:
    if mode == "backtest":
        std = ports.standard()
        data = bars_label(ports.warehouse, list(std.symbols), std.start, std.end, std.timeframe)
        return {"evaluation": std.to_json(), "data": data}
    pending = _pending(Ranking("paper", "score", period), ports, as_of)
    return {"min_track_record": {"days": ports.paper_min_days, "trades": ports.paper_min_trades},
            "sharpe_annualisation": f"returns per {ports.paper_bucket_s} s bucket, "
                                    f"annualised by sqrt({31_557_600 / ports.paper_bucket_s:g})",
            "data": ports.paper_data, "pending": [_pending_entry(r, names, ports) for r in pending]}


def _rebuild(mode: Mode, period: Period, ports: Leaderboards) -> dict[str, Page]:
    # One query ranks every metric of (mode, period); each metric's order is the warehouse's.
    as_of = ports.clock()
    rows = _query(Ranking(mode, "score", period), ports, as_of=as_of)
    names = DisplayNames(ports.documents)
    owners = {row["user_id"]: names(row["user_id"]) for row in rows}
    stamp = as_of.isoformat()
    extra = _extra(mode, period, as_of, names, ports)
    evaluation_id = extra["evaluation"]["evaluation_id"] if mode == "backtest" else None
    pages: dict[str, Page] = {}
    for metric in METRICS:
        ranking = Ranking(mode, metric, period)
        column = f"rank_{metric}"
        ordered = sorted(rows, key=lambda row: row[column])
        entries = [
            json.dumps(public_entry(row, int(row[column]), owners[row["user_id"]], evaluation_id),
                       separators=(",", ":")).encode()
            for row in ordered[:MAX_LIMIT]
        ]
        pages[metric] = Page(ranking, "warehouse", stamp, len(rows), entries, extra)
        store_page(ranking, {row["agent_id"]: -float(row[column]) for row in rows}, pages[metric], ports.cache)
    return pages


def _standing(ranking: Ranking, source: Source, entry: dict[str, Any] | None) -> dict[str, Any]:
    return {"mode": ranking.mode, "metric": ranking.metric, "period": ranking.period,
            "source": source, "entry": entry, "ranked": entry is not None}


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


REFRESH_MIN_INTERVAL_S = 1.0


def refresh_if_due(mode: Mode, ports: Leaderboards, *, min_interval_s: float = REFRESH_MIN_INTERVAL_S) -> bool:
    """Refresh `mode` unless another refresh ran within `min_interval_s`; return whether it ran.

    A burst of results then costs one rebuild per interval, not one per message; a result the
    throttle skips is visible once the cached pages expire (CACHE_TTL_S) and are re-ranked.
    """
    marker = f"lb:{mode}:refreshed"
    try:
        if ports.cache.get(marker) is not None:
            return False
        ports.cache.set(marker, ports.clock().isoformat().encode(), ttl_s=min_interval_s)
    except TransientError as exc:
        log.warning("leaderboard cache unavailable, refreshing anyway: %s", exc.message)
    refresh(mode, ports)
    return True
