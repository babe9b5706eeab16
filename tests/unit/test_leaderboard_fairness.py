"""Rankings that mean the same for everyone, on the real DuckDB warehouse.

Only the standard evaluation ranks (the automatic run over the recorded window), a deleted agent
is on no board, and a paper Sharpe ratio is annualised per return bucket (a day), never by the
seconds between snapshots; a track record that is still short is listed with what it needs.
"""

from __future__ import annotations

import json
import math
import random
import statistics
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.local.memory_cache import InProcessCache
from shared.leaderboard.scoring import Ranking, not_yet_ranked
from shared.schemas.warehouse import AGENT_DELETIONS, BACKTEST_RUNS, PAPER_SNAPSHOTS
from shared.services.leaderboard import Leaderboards, agent_standing, leaderboard
from shared.services.leaderboard_withdrawal import record_deletion, withdraw_agent
from shared.services.standard_evaluation import StandardEvaluation
from tests.fixtures.common import make_warehouse

AS_OF = datetime(2025, 7, 1, tzinfo=UTC)
STD = StandardEvaluation(("AAPL", "MSFT"), "2023-07-01", "2025-07-01")


def _run(agent: str, run_id: str, start: str, end: str, total_return: float) -> dict[str, Any]:
    return {"run_id": run_id, "agent_id": agent, "user_id": "u1", "agent_name": agent[:6], "code_hash": agent,
            "status": "succeeded", "symbols": list(STD.symbols), "timeframe": "1Day",
            "start_date": date.fromisoformat(start), "end_date": date.fromisoformat(end),
            "finished_at": AS_OF - timedelta(hours=1), "total_return": total_return, "sharpe": 1.0,
            "max_drawdown": 0.1, "win_rate": 0.5, "trades": 10, "bars": 500}


def _ports(warehouse: Any, **kwargs: Any) -> Leaderboards:
    return Leaderboards(warehouse, InProcessCache(), clock=lambda: AS_OF, evaluation=STD, **kwargs)


def test_only_the_standard_evaluation_ranks_never_a_window_the_owner_chose(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path)
    a, b = "a" * 32, "b" * 32
    warehouse.insert_rows(BACKTEST_RUNS.ref, [
        _run(a, f"{a}-auto", STD.start, STD.end, 0.10),
        _run(b, f"{b}-auto", STD.start, STD.end, 0.20),
        # a's owner found a lucky window: private, never ranked
        _run(a, f"{a}-0123456789ab", "2024-01-01", "2024-03-01", 5.0),
        # an automatic run over another window (an earlier evaluation) does not rank either
        _run("c" * 32, "c" * 32 + "-auto", "2022-01-01", "2024-01-01", 9.0),
    ])
    page = leaderboard(Ranking(metric="return"), 10, _ports(warehouse))
    entries = [json.loads(e) for e in page.entries]
    assert [(e["agent_id"], e["metrics"]["return"]) for e in entries] == [(b, 0.20), (a, 0.10)]
    assert {e["evaluation"] for e in entries} == {STD.evaluation_id}
    assert page.extra["evaluation"] == STD.to_json()
    assert page.extra["evaluation"]["symbols"] == ["AAPL", "MSFT"] and page.extra["evaluation"]["cash"] == 25_000.0


def test_a_deleted_agent_leaves_the_cached_board_at_once_and_a_later_result_never_ranks(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path)
    a, b = "a" * 32, "b" * 32
    warehouse.insert_rows(BACKTEST_RUNS.ref, [_run(a, f"{a}-auto", STD.start, STD.end, 0.1)])
    ports = _ports(warehouse)
    assert [json.loads(e)["agent_id"] for e in leaderboard(Ranking(), 10, ports).entries] == [a]
    withdraw_agent(a, "u1", "2025-07-01T00:00:00Z", ports)  # the cached page is rebuilt now
    page = leaderboard(Ranking(), 10, ports)
    assert page.source == "cache" and page.entries == []
    # b is deleted while its standard run is still running; the result lands afterwards.
    assert record_deletion(b, "u1", "2025-07-01T00:00:00Z", ports) is True
    assert record_deletion(b, "u1", "2025-07-01T00:00:00Z", ports) is False  # once
    warehouse.insert_rows(BACKTEST_RUNS.ref, [_run(b, f"{b}-auto", STD.start, STD.end, 0.3)])
    assert leaderboard(Ranking(), 10, _ports(warehouse)).entries == []
    with pytest.raises(Exception, match="not on the backtest leaderboard"):
        agent_standing(b, Ranking(), _ports(warehouse))
    assert len(warehouse.query(f"SELECT * FROM {AGENT_DELETIONS.ref}")) == 2


def _minute_snapshots(agent: str, days: int, trades: int, seed: int) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    value, rows = 25_000.0, []
    start = AS_OF - timedelta(days=days)
    for minute in range(0, days * 1440, 10):
        value *= 1 + rnd.gauss(0.000005, 0.0004)
        rows.append({"session_id": f"s-{agent[0]}", "agent_id": agent, "user_id": "u1",
                     "timestamp": start + timedelta(minutes=minute), "portfolio_value": value, "cash": 0.0,
                     "starting_value": 25_000.0, "trades": trades})
    return rows


def test_paper_sharpe_is_annualised_per_daily_bucket_not_per_snapshot_interval(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path)
    agent = "d" * 32
    snaps = _minute_snapshots(agent, days=20, trades=12, seed=3)
    warehouse.insert_rows(PAPER_SNAPSHOTS.ref, snaps)
    page = leaderboard(Ranking("paper", "sharpe", "30d"), 10, _ports(warehouse))
    [entry] = [json.loads(e) for e in page.entries]
    # Independent reference: the last value of each UTC day, daily returns, sqrt(365.25).
    last: dict[date, float] = {}
    for row in snaps:
        last[row["timestamp"].date()] = row["portfolio_value"]
    values = [last[d] for d in sorted(last)]
    returns = [b / a - 1 for a, b in pairwise(values)]
    expected = statistics.mean(returns) / statistics.stdev(returns) * math.sqrt(365.25)
    assert entry["metrics"]["sharpe"] == pytest.approx(expected, rel=1e-9)
    assert entry["score"]["observations"] == len(returns) == 19  # 20 days, 19 day-to-day returns
    assert "sqrt(365.25)" in page.extra["sharpe_annualisation"]


def test_an_hour_of_minute_snapshots_never_ranks_with_a_huge_annualised_sharpe(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path)
    agent = "9" * 32
    start = AS_OF - timedelta(hours=1)
    snaps = [{"session_id": "s-9", "agent_id": agent, "user_id": "u1", "timestamp": start + timedelta(minutes=m),
              "portfolio_value": 25_000.0 + 3 * m + (m % 2), "cash": 0.0, "starting_value": 25_000.0, "trades": 40}
             for m in range(60)]
    warehouse.insert_rows(PAPER_SNAPSHOTS.ref, snaps)
    page = leaderboard(Ranking("paper", "sharpe", "7d"), 10, _ports(warehouse, paper_min_days=1))
    assert page.entries == [] and page.total == 0
    assert page.extra["pending"][0]["not_ranked"] == "not yet ranked: 1 more day"


def test_a_short_track_record_is_listed_as_not_yet_ranked_with_what_it_still_needs(tmp_path: Path) -> None:
    warehouse = make_warehouse(tmp_path)
    young, proven = "e" * 32, "f" * 32
    warehouse.insert_rows(PAPER_SNAPSHOTS.ref, _minute_snapshots(young, days=2, trades=1, seed=1)
                          + _minute_snapshots(proven, days=8, trades=9, seed=2))
    ports = _ports(warehouse, paper_min_days=5, paper_min_trades=3)
    page = leaderboard(Ranking("paper", "score", "30d"), 10, ports)
    assert [json.loads(e)["agent_id"] for e in page.entries] == [proven]
    [pending] = page.extra["pending"]
    assert pending["agent_id"] == young
    assert pending["not_ranked"] == "not yet ranked: 4 more days, 2 more trades"
    assert (pending["days_remaining"], pending["trades_remaining"]) == (4, 2)
    assert page.extra["min_track_record"] == {"days": 5, "trades": 3}
    standing = agent_standing(young, Ranking("paper", "score", "30d"), ports)
    assert standing["ranked"] is False and standing["entry"] is None
    assert standing["not_ranked"].startswith("not yet ranked: 4 more days")
    assert not_yet_ranked(5.0, 3, 5, 3)["days_remaining"] == 0
    assert not_yet_ranked(0.2, 0, 1, 0)["message"] == "not yet ranked: 1 more day"
