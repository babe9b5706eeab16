"""End to end on the local stack: submit an agent over HTTP -> automatic backtest in a sandboxed
subprocess -> agent `backtested` with metrics, FMEL rows in the warehouse; failures never stick.

Needs the DuckDB warehouse (the job subprocess builds the embedded backend); skipped with
that reason until `shared.adapters.local.warehouse` exists.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("shared.adapters.local.warehouse", reason="needs DuckDbWarehouse for the job subprocess")

from farm.host import FunctionHost
from shared.app import Application
from shared.domain.clock import utc_now
from shared.market.synthetic import write_synthetic_market
from shared.market.universe import DEFAULT_SYMBOLS, default_window
from tests.app_factory import embedded_app
from tests.functions.agents_stack import Tokens
from tests.unit.backtest.backtest_stack import LOOPING_SOURCE, RAISING_SOURCE, SMA_SOURCE

FINAL = {"backtested", "backtest_failed"}


@pytest.fixture
def stack(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[FunctionHost, Tokens, Application]]:
    budget = getattr(request, "param", 120)
    platform = embedded_app(tmp_path, backtest_budget_s=budget, port=0)
    platform.warehouse.ensure_tables()
    start, end = default_window(utc_now())
    write_synthetic_market(platform.warehouse, DEFAULT_SYMBOLS, start, end)
    host = FunctionHost(platform, port=0).start()
    yield host, Tokens(tmp_path), platform
    host.stop()
    platform.close()


def call(host: FunctionHost, tokens: Tokens, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(host.url + path, data=data, method=method,
                                 headers={**tokens.header("alice"), "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.loads(response.read() or b"null")


def submit_and_wait(host: FunctionHost, tokens: Tokens, name: str, code: str, timeout_s: float = 120) -> dict:
    agent_id = call(host, tokens, "POST", "/api/agents", {"name": name, "code": code})["agent_id"]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        agent = call(host, tokens, "GET", f"/api/agents/{agent_id}")
        if agent["status"] in FINAL:
            return agent | {"agent_id": agent_id}
        time.sleep(0.3)
    raise AssertionError(f"{name} still {agent['status']} after {timeout_s}s")


def test_a_submitted_sma_agent_is_backtested_with_metrics_and_every_decision_recorded(stack) -> None:
    host, tokens, platform = stack
    agent = submit_and_wait(host, tokens, "sma", SMA_SOURCE)

    assert agent["status"] == "backtested", agent
    run_id = f"{agent['agent_id']}-auto"
    run = call(host, tokens, "GET", f"/api/backtests/{run_id}")
    assert run["status"] == "succeeded" and run["metrics"]["trades"] > 0 and run["equity_curve"]
    rows = platform.warehouse.query(
        "SELECT decision_point, portfolio_value FROM fmel.decisions WHERE session_id = @s ORDER BY decision_point",
        {"s": run_id})
    assert len(rows) == run["metrics"]["decisions"] == run["metrics"]["bars"]
    assert rows[-1]["portfolio_value"] == pytest.approx(run["metrics"]["final_value"], abs=1e-6)


def test_a_raising_agent_ends_backtest_failed_with_its_own_traceback(stack) -> None:
    host, tokens, _ = stack
    agent = submit_and_wait(host, tokens, "raiser", RAISING_SOURCE)
    assert agent["status"] == "backtest_failed"
    run = call(host, tokens, "GET", f"/api/backtests/{agent['agent_id']}-auto")
    assert run["status"] == "failed" and 'File "agent.py"' in run["error"] and "backtrader" not in run["error"]


@pytest.mark.parametrize("stack", [4], indirect=True)
def test_an_agent_looping_forever_is_stopped_by_the_budget_and_nothing_stays_running(stack) -> None:
    host, tokens, _ = stack
    agent = submit_and_wait(host, tokens, "looper", LOOPING_SOURCE, timeout_s=60)
    assert agent["status"] == "backtest_failed"
    run = call(host, tokens, "GET", f"/api/backtests/{agent['agent_id']}-auto")
    assert run["status"] == "failed" and "time budget" in run["error"]
