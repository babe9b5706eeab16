"""Leaderboard API over real HTTP: public, cached in a real Redis, warehouse fallback when the
cache misses or Redis is stopped, public-safe fields only, and the refresh functions."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests
from cloudevents.http import CloudEvent

from functions import _platform
from functions.on_leaderboard_refresh import on_backtest_result_leaderboard, on_performance_update
from shared.adapters.redis_cache import RedisCache, connect
from shared.events import encode_pubsub_event
from shared.ports.messages import ReceivedMessage
from shared.schemas.messages import BacktestCompleted, PortfolioSnapshotted
from shared.schemas.warehouse import BACKTEST_RUNS
from shared.services.standard_evaluation import COLLECTION, DOC_ID, StandardEvaluation
from tests.fixtures.common import free_port, stop_process, wait_for_port
from tests.functions.analytics_stack import analytics_platform, needs_warehouse, serving

pytestmark = needs_warehouse
NOW = datetime.now(UTC)


@pytest.fixture
def own_redis() -> Iterator[subprocess.Popen[bytes]]:
    """A redis-server this test may stop."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="farm-lb-redis-") as tmp:
        proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", tmp], stdout=subprocess.DEVNULL, cwd=tmp)
        proc.port = port  # type: ignore[attr-defined]
        try:
            wait_for_port(port, timeout_s=10)
            yield proc
        finally:
            stop_process(proc)


STD = StandardEvaluation(("AAPL", "MSFT"), "2023-01-02", "2025-01-02")


def run(i: int, **extra: Any) -> dict[str, Any]:
    """Agent i's standard evaluation (the only run the board ranks)."""
    return {"run_id": f"{i:032x}-auto", "agent_id": f"{i:032x}", "user_id": f"owner-{i}@example.com",
            "agent_name": f"agent {i}", "code_hash": f"secret-hash-{i}", "status": "succeeded",
            "start_date": date.fromisoformat(STD.start), "end_date": date.fromisoformat(STD.end),
            "timeframe": "1Day", "finished_at": NOW - timedelta(days=i % 40), "total_return": i / 100,
            "sharpe": (i % 7) / 2, "max_drawdown": (i % 5) / 10, "win_rate": (i % 3) / 3, "trades": i % 12,
            "bars": 250} | extra


@pytest.fixture
def stack(tmp_path: Any, own_redis: subprocess.Popen[bytes]) -> Iterator[dict[str, Any]]:
    platform = analytics_platform(tmp_path, cache=RedisCache(connect(f"redis://127.0.0.1:{own_redis.port}/0",  # type: ignore[attr-defined]
                                                                      timeout_s=0.5)))
    platform.documents.create(COLLECTION, DOC_ID, STD.to_json())  # the recorded standard evaluation
    platform.warehouse.insert_rows(BACKTEST_RUNS.ref, [run(i) for i in range(1, 61)])
    with serving(platform) as host:
        yield {"url": host.url, "platform": platform, "redis": own_redis}


def get(stack: dict[str, Any], path: str, **params: Any) -> requests.Response:
    return requests.get(stack["url"] + path, params=params, timeout=30)


def test_the_leaderboard_is_public_cached_after_the_first_request_and_timed(stack: dict[str, Any]) -> None:
    first = get(stack, "/api/leaderboard", metric="return", limit=10)
    second = get(stack, "/api/leaderboard", metric="return", limit=10)
    assert first.status_code == second.status_code == 200, first.text
    assert (first.json()["source"], second.json()["source"]) == ("warehouse", "cache")
    assert first.json()["entries"] == second.json()["entries"]
    body = second.json()
    assert body["total"] == 60 and len(body["entries"]) == 10
    assert [e["agent_id"] for e in body["entries"]] == [f"{i:032x}" for i in range(60, 50, -1)]
    assert [e["rank"] for e in body["entries"]] == list(range(1, 11))
    assert second.headers["Server-Timing"].startswith("app;dur=")
    assert "max-age=30" in second.headers["Cache-Control"]


def test_entries_show_metrics_and_score_components_but_never_code_hash_uid_or_email(stack: dict[str, Any]) -> None:
    response = get(stack, "/api/leaderboard", limit=1000)
    entry = response.json()["entries"][0]
    assert set(entry) == {"rank", "agent_id", "agent_name", "owner", "as_of", "metrics", "score", "evaluation"}
    assert entry["evaluation"] == STD.evaluation_id and response.json()["evaluation"] == STD.to_json()
    assert set(entry["score"]) >= {"psr", "z", "observations", "eligible", "min_trades"}
    assert entry["owner"].startswith("trader-")
    for secret in ("secret-hash", "@example.com", "owner-", "code_hash", "user_id"):
        assert secret not in response.text, secret
    # Eligible agents (enough trades) come first on the default, luck-resistant score.
    flags = [e["score"]["eligible"] for e in response.json()["entries"]]
    assert flags == sorted(flags, reverse=True)


def test_limit_mode_metric_and_period_are_checked(stack: dict[str, Any]) -> None:
    for params in ({"limit": 1001}, {"limit": 0}, {"limit": "ten"}, {"metric": "luck"}, {"period": "1y"},
                   {"mode": "live"}):
        response = get(stack, "/api/leaderboard", **params)
        assert response.status_code == 400, params
        assert response.json()["error"]["code"] == "invalid_argument"
    assert len(get(stack, "/api/leaderboard", limit=1000).json()["entries"]) == 60


def test_one_agents_standing_matches_its_place_in_the_list_and_unranked_is_404(stack: dict[str, Any]) -> None:
    listing = get(stack, "/api/leaderboard", metric="drawdown", period="30d", limit=1000).json()["entries"]
    target = listing[7]
    standing = get(stack, f"/api/leaderboard/agents/{target['agent_id']}", metric="drawdown", period="30d")
    assert standing.status_code == 200
    assert standing.json()["source"] == "cache"
    assert standing.json()["entry"] == target
    assert get(stack, f"/api/leaderboard/agents/{'f' * 32}").status_code == 404


def test_with_redis_stopped_the_same_request_answers_from_the_warehouse(stack: dict[str, Any]) -> None:
    cached = get(stack, "/api/leaderboard", metric="sharpe", period="90d", limit=20)
    assert get(stack, "/api/leaderboard", metric="sharpe", period="90d", limit=20).json()["source"] == "cache"
    stack["redis"].terminate()
    stack["redis"].wait(timeout=5)
    fallback = get(stack, "/api/leaderboard", metric="sharpe", period="90d", limit=20)
    assert fallback.status_code == 200, fallback.text
    assert fallback.json()["source"] == "warehouse"
    assert fallback.json()["entries"] == cached.json()["entries"]
    agent = cached.json()["entries"][3]["agent_id"]
    standing = get(stack, f"/api/leaderboard/agents/{agent}", metric="sharpe", period="90d")
    assert standing.status_code == 200 and standing.json()["source"] == "warehouse"
    assert standing.json()["entry"]["rank"] == 4


def _event(message: bytes, topic: str) -> CloudEvent:
    received = ReceivedMessage(message_id="m1", data=message, attributes={}, publish_time=NOW.timestamp(), ack_id="a1",
                               delivery_attempt=1)
    return encode_pubsub_event(received, project="local", topic=topic, subscription="s")


def test_a_new_backtest_result_and_paper_snapshots_refresh_the_cached_leaderboards(stack: dict[str, Any]) -> None:
    platform = stack["platform"]
    assert get(stack, "/api/leaderboard", metric="return").json()["source"] == "warehouse"
    star = run(99, total_return=9.0)
    platform.warehouse.insert_rows(BACKTEST_RUNS.ref, [star])
    done = BacktestCompleted(run_id=star["run_id"], agent_id=star["agent_id"], owner_uid="x", status="succeeded",
                             finished_at=NOW.isoformat())
    previous = _platform.use_platform(platform)
    try:
        on_backtest_result_leaderboard(_event(done.encode(), BacktestCompleted.TOPIC))
        top = get(stack, "/api/leaderboard", metric="return").json()
        assert (top["source"], top["entries"][0]["agent_id"]) == ("cache", star["agent_id"])
        for minute in range(3):
            snap = PortfolioSnapshotted(session_id="s1", agent_id=star["agent_id"], owner_uid="x",
                                        timestamp=(NOW - timedelta(minutes=3 - minute)).isoformat(),
                                        portfolio_value=25_000.0 + 100 * minute, cash=1.0, starting_value=25_000.0)
            platform.cache.delete("lb:paper:refreshed")  # each message re-ranks here, not throttled
            on_performance_update(_event(snap.encode(), PortfolioSnapshotted.TOPIC))
            on_performance_update(_event(snap.encode(), PortfolioSnapshotted.TOPIC))  # redelivered
        on_performance_update(_event(b"not json", PortfolioSnapshotted.TOPIC))  # dropped, not raised
    finally:
        _platform.use_platform(previous)
    rows = platform.warehouse.query("SELECT COUNT(*) AS n FROM analytics.paper_snapshots")
    assert rows[0]["n"] == 3
    paper = get(stack, "/api/leaderboard", mode="paper", metric="return", period="7d").json()
    assert paper["source"] == "cache"
    # Three minutes of snapshots are no track record: listed, not ranked, with what it needs.
    assert paper["entries"] == [] and paper["min_track_record"] == {"days": 5, "trades": 5}
    [pending] = paper["pending"]
    assert (pending["agent_id"], pending["agent_name"]) == (star["agent_id"], "agent 99")
    assert pending["not_ranked"] == "not yet ranked: 5 more days, 5 more trades"
    standing = get(stack, f"/api/leaderboard/agents/{star['agent_id']}", mode="paper", period="7d").json()
    assert standing["ranked"] is False and standing["days_remaining"] == 5


def test_farm_leaderboard_prints_the_ranking_with_score_components(
    stack: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from farm.commands import leaderboard

    args = argparse.Namespace(mode="backtest", metric="return", period="all", limit=3, url=stack["url"], json=False)
    assert leaderboard.run(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("backtest leaderboard by return over all (60 ranked")
    assert lines[2].split()[:3] == ["1", "agent", "60"] and "+60.0%" in lines[2]
    assert len([line for line in lines if line.strip()[:1].isdigit()]) == 3
    assert f"standard evaluation {STD.evaluation_id}: 2 symbols 2023-01-02..2025-01-02 1Day" in "\n".join(lines)
    assert any(line.startswith("data: ") for line in lines)
