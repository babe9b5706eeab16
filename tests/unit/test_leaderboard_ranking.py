"""Leaderboard ranking: the warehouse query against an independent pure-Python ranking.

1,000 agents with backtest runs (failed runs, owner-chosen runs with better numbers that must
not rank, copied code, missing metrics) are ranked by the real DuckDB warehouse on every metric
and period; the reference below recomputes each ranking from the standard runs alone, with its
own PSR maths (statistics.NormalDist, not the module under test).
"""

from __future__ import annotations

import importlib.util
import math
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import NormalDist
from typing import Any

import pytest

from shared.adapters.local.memory_cache import InProcessCache
from shared.leaderboard.scoring import (
    METRICS,
    PERIODS,
    Ranking,
    per_observation_sharpe,
    probabilistic_sharpe,
    psr_z,
)
from shared.schemas.warehouse import BACKTEST_RUNS, PAPER_SNAPSHOTS
from shared.services.leaderboard import Leaderboards, leaderboard, mode_parameters, ranking_rows
from shared.services.standard_evaluation import StandardEvaluation

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("shared.adapters.local.warehouse") is None,
    reason="needs the DuckDB warehouse adapter (shared.adapters.local.warehouse)",
)

AS_OF = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
PERIOD_DAYS = {"7d": 7, "30d": 30, "90d": 90, "all": None}
PER_YEAR = {"1Day": 252, "1Hour": 1638, "1Min": 98280}
MIN_TRADES, MIN_OBS = 5, 30
STD = StandardEvaluation(("AAPL", "MSFT"), "2023-06-30", "2025-06-30")
STD_PARAMS = mode_parameters("backtest", Leaderboards(None, None, evaluation=STD))  # type: ignore[arg-type]


def _rank(warehouse: Any, ranking: Ranking, **kwargs: Any) -> list[dict[str, Any]]:
    params = STD_PARAMS if ranking.mode == "backtest" else kwargs.pop("paper", PAPER_PARAMS)
    return ranking_rows(warehouse, ranking, mode_params=params, **kwargs)


PAPER_PARAMS = {"bucket_s": 3600, "min_days": 0.0, "min_paper_trades": 0}


def _runs(n_agents: int, seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n_agents):
        agent = f"{i:032x}"
        # Every 20th agent copies the code of the agent before it.
        code = f"code-{i - 1 if i % 20 == 19 else i}"
        for k in range(rnd.randint(1, 3)):
            # The first run is the standard evaluation; the others are the owner's own choice of
            # window (better numbers, always succeeded), which must never rank.
            standard = k == 0
            ok = rnd.random() > 0.15 or not standard
            missing = rnd.random() < 0.05
            rows.append({
                "run_id": f"{agent}-auto" if standard else f"{agent}-{k:012x}", "agent_id": agent,
                "user_id": f"user-{i % 37}", "agent_name": f"agent {i}", "code_hash": code,
                "status": "succeeded" if ok else "failed", "symbols": list(STD.symbols),
                "start_date": date.fromisoformat(STD.start if standard else "2024-01-01"),
                "end_date": date.fromisoformat(STD.end if standard else "2024-03-01"),
                "timeframe": "1Day" if standard else rnd.choice(["1Day", "1Hour", "1Min"]),
                "finished_at": AS_OF - timedelta(days=rnd.uniform(0, 120)),
                "total_return": round(rnd.uniform(-0.5, 1.5), 2) + (0 if standard else 10),  # ties happen
                "sharpe": None if missing else round(rnd.uniform(-2, 4), 2),
                "max_drawdown": round(rnd.uniform(0, 0.6), 2),
                "win_rate": None if missing else round(rnd.uniform(0, 1), 1),
                "trades": rnd.randint(0, 40), "bars": rnd.randint(5, 600),
            })
    return rows


def _reference(rows: list[dict[str, Any]], period: str) -> dict[str, list[str]]:
    """Each metric's order of agent ids, computed from the rows alone."""
    days = PERIOD_DAYS[period]
    since = AS_OF - timedelta(days=days) if days else datetime(1970, 1, 1, tzinfo=UTC)
    ok = [r for r in rows if r["status"] == "succeeded" and r["run_id"].endswith("-auto")]
    first: dict[str, datetime] = {}
    for r in ok:
        first[r["agent_id"]] = min(first.get(r["agent_id"], r["finished_at"]), r["finished_at"])
    latest: dict[str, dict[str, Any]] = {}
    for r in ok:
        if since <= r["finished_at"] <= AS_OF:
            best = latest.get(r["agent_id"])
            if best is None or (r["finished_at"], r["run_id"]) > (best["finished_at"], best["run_id"]):
                latest[r["agent_id"]] = r
    by_code: dict[str, dict[str, Any]] = {}
    for r in latest.values():
        held = by_code.get(r["code_hash"])
        if held is None or (first[r["agent_id"]], r["agent_id"]) < (first[held["agent_id"]], held["agent_id"]):
            by_code[r["code_hash"]] = r
    kept = list(by_code.values())

    def z(r: dict[str, Any]) -> float | None:
        if r["sharpe"] is None or r["bars"] - 1 < 2:
            return None
        sr = r["sharpe"] / math.sqrt(PER_YEAR[r["timeframe"]])
        return sr * math.sqrt(r["bars"] - 2) / math.sqrt(1 + sr * sr / 2)

    def desc(value: float | None) -> tuple[int, float]:
        return (1, 0.0) if value is None else (0, -value)

    def eligible(r: dict[str, Any]) -> bool:
        return r["trades"] >= MIN_TRADES and r["bars"] - 1 >= MIN_OBS

    keys = {
        "score": lambda r: (not eligible(r), desc(z(r)), r["agent_id"]),
        "sharpe": lambda r: (desc(r["sharpe"]), r["agent_id"]),
        "return": lambda r: (desc(r["total_return"]), r["agent_id"]),
        "drawdown": lambda r: (r["max_drawdown"], r["agent_id"]),
        "win_rate": lambda r: (desc(r["win_rate"]), r["agent_id"]),
    }
    return {metric: [r["agent_id"] for r in sorted(kept, key=key)] for metric, key in keys.items()}


@pytest.fixture(scope="module")
def ranked_warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[dict[str, Any]]]:
    from shared.adapters.local.warehouse import DuckDbWarehouse

    warehouse = DuckDbWarehouse(tmp_path_factory.mktemp("lb") / "warehouse.duckdb")
    warehouse.ensure_tables()
    rows = _runs(1000)
    warehouse.insert_rows(BACKTEST_RUNS.ref, rows)
    return warehouse, rows


@pytest.mark.parametrize("period", PERIODS)
def test_a_thousand_agents_rank_as_the_independent_computation_on_every_metric(
    ranked_warehouse: tuple[Any, list[dict[str, Any]]], period: str
) -> None:
    warehouse, rows = ranked_warehouse
    expected = _reference(rows, period)
    assert len(expected["score"]) > (50 if period == "7d" else 200)
    for metric in METRICS:
        got = _rank(warehouse, Ranking("backtest", metric, period), as_of=AS_OF)
        assert [r["agent_id"] for r in got] == expected[metric], (metric, period)
        assert [r["rank"] for r in got] == list(range(1, len(got) + 1))


def test_the_cached_page_serves_the_same_order_as_the_warehouse_and_limit_cuts_it(
    ranked_warehouse: tuple[Any, list[dict[str, Any]]],
) -> None:
    warehouse, rows = ranked_warehouse
    ports = Leaderboards(warehouse, InProcessCache(), clock=lambda: AS_OF, evaluation=STD)
    sources = []
    for metric in METRICS:
        ranking = Ranking("backtest", metric, "90d")
        first = leaderboard(ranking, 1000, ports)
        second = leaderboard(ranking, 25, ports)
        sources += [first.source, second.source]
        expected = _reference(rows, "90d")[metric]
        assert first.total == len(expected)
        assert [_agent(e) for e in first.entries] == expected[:1000]
        assert [_agent(e) for e in second.entries] == expected[:25]
    # The first miss ranked every metric of the period at once and filled the cache.
    assert sources == ["warehouse"] + ["cache"] * (2 * len(METRICS) - 1)


def test_copied_code_ranks_once_as_the_agent_that_first_succeeded_with_it(
    ranked_warehouse: tuple[Any, list[dict[str, Any]]], tmp_path: Path
) -> None:
    warehouse, rows = ranked_warehouse
    got = {r["agent_id"] for r in _rank(warehouse, Ranking(period="all"), as_of=AS_OF)}
    codes = [next(r["code_hash"] for r in rows if r["agent_id"] == agent) for agent in got]
    assert len(codes) == len(set(codes))

    from shared.adapters.local.warehouse import DuckDbWarehouse

    small = DuckDbWarehouse(tmp_path / "copies.duckdb")
    small.ensure_tables()
    base = _runs(1)[0] | {"status": "succeeded", "code_hash": "same", "trades": 10, "bars": 100}
    original = base | {"run_id": "1" * 32 + "-auto", "agent_id": "1" * 32, "sharpe": 0.5,
                       "finished_at": AS_OF - timedelta(days=5)}
    better_copy = base | {"run_id": "2" * 32 + "-auto", "agent_id": "2" * 32, "sharpe": 3.0,
                          "finished_at": AS_OF - timedelta(days=1)}
    small.insert_rows(BACKTEST_RUNS.ref, [original, better_copy])
    ranked = _rank(small, Ranking(metric="sharpe"), as_of=AS_OF)
    assert [r["agent_id"] for r in ranked] == ["1" * 32]


def test_probabilistic_sharpe_matches_bailey_and_lopez_de_prado_for_normal_returns() -> None:
    sr, n = 0.1, 251  # a 1.59 annualised daily Sharpe over one year
    expected = NormalDist().cdf(sr * math.sqrt(n - 1) / math.sqrt(1 - 0 * sr + (3 - 1) / 4 * sr**2))
    assert probabilistic_sharpe(psr_z(sr, n)) == pytest.approx(expected, rel=1e-12)
    assert per_observation_sharpe(math.sqrt(252), "1Day") == pytest.approx(1.0)
    assert psr_z(0.5, 1) is None  # one observation says nothing
    # A longer record with the same Sharpe is more convincing.
    assert probabilistic_sharpe(psr_z(0.05, 1000)) > probabilistic_sharpe(psr_z(0.05, 50))


def test_paper_sessions_rank_by_return_from_starting_value_and_drawdown_over_the_period(tmp_path: Path) -> None:
    from shared.adapters.local.warehouse import DuckDbWarehouse

    warehouse = DuckDbWarehouse(tmp_path / "warehouse.duckdb")
    warehouse.ensure_tables()
    start = AS_OF - timedelta(days=3)
    paths = {"a" * 32: [1000, 1100, 990, 1200], "b" * 32: [1000, 1010, 1020, 1030], "c" * 32: [1000, 900, 950, 800]}
    snaps = [
        {"session_id": f"s-{agent[0]}", "agent_id": agent, "user_id": "u", "timestamp": start + timedelta(hours=h),
         "portfolio_value": float(v), "cash": 0.0, "starting_value": 1000.0, "trades": 6}
        for agent, values in paths.items() for h, v in enumerate(values)
    ]
    warehouse.insert_rows(PAPER_SNAPSHOTS.ref, snaps + snaps[:2])  # a redelivered snapshot counts once
    rows = {r["agent_id"]: r for r in _rank(warehouse, Ranking("paper", "return", "7d"), as_of=AS_OF)}
    assert [a for a, _ in sorted(rows.items(), key=lambda kv: kv[1]["rank"])] == ["a" * 32, "b" * 32, "c" * 32]
    assert rows["a" * 32]["total_return"] == pytest.approx(0.2)
    assert rows["a" * 32]["max_drawdown"] == pytest.approx(1 - 990 / 1100)
    assert rows["c" * 32]["max_drawdown"] == pytest.approx(0.2)
    assert rows["b" * 32]["win_rate"] == pytest.approx(1.0)
    assert rows["a" * 32]["observations"] == 3
    drawdown = _rank(warehouse, Ranking("paper", "drawdown", "7d"), as_of=AS_OF)
    assert [r["agent_id"] for r in drawdown] == ["b" * 32, "a" * 32, "c" * 32]
    assert _rank(warehouse, Ranking("paper", "return", "7d"), as_of=AS_OF + timedelta(days=30)) == []


def _agent(entry: bytes) -> str:
    import json

    return json.loads(entry)["agent_id"]
