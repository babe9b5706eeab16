"""Rankings that mean the same for everyone, end to end on the local stack over HTTP.

Real function host, real sandboxed backtest jobs, the embedded stores and the labelled synthetic
market: only each agent's standard evaluation ranks (an owner's own window stays private), the
runs list, chart, curves and output are served to the owner, a deleted agent leaves the board at
once (also when deleted while its automatic backtest runs), and backtests and paper trading never
block each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from farm.host import FunctionHost
from shared.app import Application
from shared.domain.clock import utc_now
from shared.market.synthetic import write_synthetic_market
from shared.market.universe import DEFAULT_SYMBOLS, default_window
from tests.app_factory import embedded_app
from tests.fixtures.common import wait_for
from tests.functions.agents_stack import Tokens
from tests.unit.backtest.backtest_stack import SMA_SOURCE

USER = "alice"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Application]]:
    limits = tuple(f"{c}=100000/60" for c in ("requests", "submissions", "backtests", "paper_starts"))
    platform = embedded_app(tmp_path, backtest_budget_s=120, port=0, rate_limits=limits)
    platform.warehouse.ensure_tables()
    start, end = default_window(utc_now())
    write_synthetic_market(platform.warehouse, DEFAULT_SYMBOLS, start, end)
    host = FunctionHost(platform, port=0).start()
    try:
        yield host.url, Tokens(tmp_path).header(USER), platform
    finally:
        host.stop()
        platform.close()  # runtimes and jobs first, then the stores



def api(url: str, auth: dict[str, str], method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, url + path, headers=auth, timeout=60, **kwargs)


def submit(url: str, auth: dict[str, str], name: str, variant: int) -> str:
    response = api(url, auth, "POST", "/api/agents", json={"name": name, "code": SMA_SOURCE + f"\nV = {variant}\n"})
    assert response.status_code == 201, response.text
    return response.json()["agent_id"]


def finished_run(url: str, auth: dict[str, str], run_id: str, timeout_s: float = 120) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        run = api(url, auth, "GET", f"/api/backtests/{run_id}").json()
        return run if run.get("status") in ("succeeded", "failed") else None

    return wait_for(done, timeout_s, f"run {run_id}", every_s=0.2)


def board(url: str, **params: Any) -> dict[str, Any]:
    return requests.get(url + "/api/leaderboard", params={"limit": 100, **params}, timeout=30).json()


def test_only_the_standard_evaluation_ranks_and_the_owner_reads_runs_chart_and_output(stack) -> None:
    url, auth, platform = stack
    first, second = submit(url, auth, "first", 1), submit(url, auth, "second", 2)
    standard = {a: finished_run(url, auth, f"{a}-auto") for a in (first, second)}
    assert all(r["status"] == "succeeded" and r["standard"] for r in standard.values()), standard
    assert standard[first]["request"] | {"requested_at": None} == standard[second]["request"] | {
        "requested_at": None, "run_id": standard[first]["request"]["run_id"],
        "agent_id": standard[first]["request"]["agent_id"]}  # the same evaluation for both
    assert standard[first]["data"]["synthetic"] is True  # the labelled synthetic market

    # The owner's own window: private, never ranked.
    own = api(url, auth, "POST", f"/api/agents/{first}/backtests",
              json={"symbols": ["AAPL", "MSFT"], "start": "2025-01-01", "timeframe": "1Day", "cash": 50_000,
                    "commission": 0.001})
    assert own.status_code == 202, own.text
    mine = finished_run(url, auth, own.json()["run_id"])
    assert mine["status"] == "succeeded" and mine["standard"] is False
    page = board(url, metric="return")
    ranked = {e["agent_id"]: e for e in page["entries"]}
    assert set(ranked) == {first, second}
    assert ranked[first]["metrics"]["return"] == pytest.approx(standard[first]["metrics"]["total_return"])
    assert {e["evaluation"] for e in page["entries"]} == {page["evaluation"]["evaluation_id"]}
    assert page["evaluation"]["symbols"] == list(DEFAULT_SYMBOLS) and page["data"]["synthetic"] is True

    # The agent's runs, newest first, page by page.
    one = api(url, auth, "GET", f"/api/agents/{first}/backtests", params={"limit": 1}).json()
    rest = api(url, auth, "GET", f"/api/agents/{first}/backtests",
               params={"limit": 1, "page_token": one["next_page_token"]}).json()
    assert [r["run_id"] for r in one["runs"] + rest["runs"]] == [own.json()["run_id"], f"{first}-auto"]
    assert [r["standard"] for r in one["runs"] + rest["runs"]] == [False, True] and rest["next_page_token"] is None

    # The chart: a PNG, and the curves it is drawn from (benchmark, markers, the synthetic label).
    chart = api(url, auth, "GET", f"/api/backtests/{first}-auto/chart")
    assert chart.status_code == 200 and chart.headers["Content-Type"] == "image/png"
    assert chart.content.startswith(b"\x89PNG\r\n\x1a\n")
    curves = api(url, auth, "GET", f"/api/backtests/{first}-auto/curves").json()
    assert len(curves["benchmark"]) == len(curves["equity"]) > 100
    assert curves["benchmark"][0]["v"] == pytest.approx(25_000.0)
    assert "SYNTHETIC DATA" in curves["title"] and curves["data"]["synthetic"] is True
    trades = standard[first]["trades"] or []
    assert len(curves["markers"]) == 2 * len(trades)
    output = api(url, auth, "GET", f"/api/backtests/{first}-auto/output")
    assert output.status_code == 200 and isinstance(output.json()["text"], str)
    bob = Tokens(platform.settings.data_dir).header("bob")
    for path in (f"/api/backtests/{first}-auto/output", f"/api/backtests/{first}-auto/chart",
                 f"/api/backtests/{first}-auto/curves", f"/api/agents/{first}/backtests"):
        assert api(url, bob, "GET", path).status_code == 404, path


def test_a_deleted_agent_leaves_the_board_at_once_even_while_its_automatic_backtest_runs(stack) -> None:
    url, auth, platform = stack
    kept, dropped = submit(url, auth, "kept", 3), submit(url, auth, "dropped", 4)
    for agent in (kept, dropped):
        finished_run(url, auth, f"{agent}-auto")
    wait_for(lambda: {e["agent_id"] for e in board(url)["entries"]} == {kept, dropped}, 30, "both ranked", every_s=0.2)
    assert api(url, auth, "DELETE", f"/api/agents/{dropped}").status_code == 204
    now = board(url)
    assert now["source"] == "cache" and {e["agent_id"] for e in now["entries"]} == {kept}

    late = submit(url, auth, "late", 5)
    assert api(url, auth, "DELETE", f"/api/agents/{late}").status_code == 204  # its backtest still to run
    result = finished_run(url, auth, f"{late}-auto")  # the owner can still read the run
    assert result["status"] == "succeeded"
    rows = platform.warehouse.query("SELECT status FROM analytics.backtest_runs WHERE agent_id = @a", {"a": late})
    assert [r["status"] for r in rows] == ["succeeded"]  # the result landed after the deletion
    for period in ("7d", "30d", "90d", "all"):
        assert {e["agent_id"] for e in board(url, period=period)["entries"]} == {kept}, period
    standing = requests.get(f"{url}/api/leaderboard/agents/{late}", timeout=30)
    assert standing.status_code == 404


def test_backtests_and_paper_trading_never_block_each_other(stack) -> None:
    url, auth, _ = stack
    agent = submit(url, auth, "busy", 6)
    finished_run(url, auth, f"{agent}-auto")
    queued = api(url, auth, "POST", f"/api/agents/{agent}/backtests", json={"symbols": ["AAPL"]})
    assert queued.status_code == 202, queued.text
    account = api(url, auth, "POST", "/api/broker/accounts", json={"agent_id": agent}).json()
    funded = requests.post(f"{url}/api/broker/accounts/{account['account_id']}/funding",
                           headers={**auth, "Idempotency-Key": "e2e"}, timeout=30)
    assert funded.status_code == 200, funded.text
    started = api(url, auth, "POST", f"/api/agents/{agent}/paper-trading", json={"symbols": ["AAPL"]})
    assert started.status_code == 201, started.text  # the owner's backtest is queued or running
    while_trading = api(url, auth, "POST", f"/api/agents/{agent}/backtests", json={"symbols": ["MSFT"]})
    assert while_trading.status_code == 202, while_trading.text
    for run_id in (queued.json()["run_id"], while_trading.json()["run_id"]):
        assert finished_run(url, auth, run_id)["status"] == "succeeded"
    status = api(url, auth, "GET", f"/api/agents/{agent}").json()["status"]
    assert status in ("deploying", "trading")  # the backtests never moved it
    stopped = api(url, auth, "DELETE", f"/api/agents/{agent}/paper-trading")
    assert stopped.status_code == 200, stopped.text
