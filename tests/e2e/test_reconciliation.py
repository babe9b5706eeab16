"""Reconciliation end to end: real paper sessions on the embedded stack, replayed and diffed.

An honest deterministic agent's session replays 100% identical; each induced divergence is
found at the right decision and classified: a bar dropped between the archive and the runtime
(data), a broker slipping more than the session's model (execution), an agent reading the clock
or a random number (agent), an account that changed across a restart (state).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from farm.commands.reconcile import describe
from shared.app import Application
from shared.backtest.bundle import extract_bundle
from shared.backtest.engine import FmelContext
from shared.fmel import FmelRecorder
from shared.harness.backtest_host import run_backtest
from shared.harness.sandboxed import SandboxedAgentLauncher
from shared.ports.broker import BROKER_ACCOUNTS
from shared.reconcile.bars import replay_frames
from shared.schemas.collections import SESSIONS
from tests.e2e.reconcile_stack import OPTIONS, bars, paper_session, publish, reconcile, run_runtime
from tests.fixtures.agents import store_finished_run
from tests.fixtures.common import make_warehouse
from tests.unit.runtime.stack import TRADER, backtested_agent, bundle, local_platform


@pytest.fixture
def platform(tmp_path: Path) -> Application:
    return local_platform(tmp_path / "data", make_warehouse(tmp_path))


def test_an_honest_deterministic_agent_reconciles_to_every_decision_identical(platform, tmp_path) -> None:
    market = bars("AAPL", 40)
    session = paper_session(platform, agent_id="honest", archived=market, delivered=market)
    report = reconcile(platform, "honest", tmp_path)
    summary = report["summary"]
    print(f"\n{summary}")
    assert report["status"] == "succeeded", report["error"]
    assert summary["decisions_compared"] == session.decisions == 40
    assert summary["identical"] == 40 and summary["identical_pct"] == 100.0
    assert summary["first_divergence"] is None and report["first_divergences"] == []
    assert summary["tracking"]["max_abs_gap"] == 0.0


def test_a_bar_dropped_between_the_archive_and_the_runtime_is_a_data_divergence(platform, tmp_path) -> None:
    market = bars("AAPL", 30)
    dropped = market[12]
    paper_session(platform, agent_id="dropped", archived=market, delivered=[m for m in market if m is not dropped])
    report = reconcile(platform, "dropped", tmp_path)
    first = report["summary"]["first_divergence"]
    assert report["status"] == "succeeded", report["error"]
    missing = [d for d in report["first_divergences"] if d["left_point"] is None]
    assert (first["cause"], first["kind"]) == ("data", "missing")
    # The agent's order of the bar before filled on the next bar the session got: still the gap.
    assert first["right_point"] == 12 and "never got AAPL 2025-01-06 14:42" in first["detail"]
    assert missing[0]["bar_time"] == dropped.bar.timestamp.isoformat() and missing[0]["cause"] == "data"
    summary = report["summary"]
    assert summary["left_decisions"] == 29 and summary["right_decisions"] == 30
    assert summary["identical"] >= 11  # everything before the gap
    said = "\n".join(describe(report))
    assert "[data/missing]: the paper run made no decision at 2025-01-06 14:42: it never got AAPL" in said


def test_a_fill_slipped_past_the_session_model_is_an_execution_divergence(platform, tmp_path) -> None:
    market = bars("AAPL", 12)
    slipping = replace(OPTIONS, slippage=0.003)  # the broker slips 30 bps...
    session = paper_session(platform, agent_id="slipped", archived=market, delivered=market, options=slipping)
    # ...while the model on record says 5 (a venue slipping past its model; the runtime records the
    # model it ran with, so the record is changed here to stand for that venue).
    platform.documents.update(SESSIONS, session.session_id,
                              {"broker": {"slippage": 0.0005, "commission": 0.0, "participation": 1.0}})
    report = reconcile(platform, "slipped", tmp_path)
    summary, first = report["summary"], report["summary"]["first_divergence"]
    assert (first["cause"], first["kind"]) == ("execution", "fill_price")
    assert first["left_point"] == first["right_point"] == 3  # the agent's first order (every 3rd bar)
    assert "(+25.0 bps)" in first["detail"]
    assert summary["by_cause"]["data"] == summary["by_cause"]["agent"] == 0
    slips = summary["slippage_bps"]["AAPL"]
    assert slips["count"] >= 3 and 24.9 < slips["median"] < 25.1  # (1.003 / 1.0005 - 1) in bps
    assert summary["tracking"]["final_gap"] < 0  # worse fills: less money


@pytest.mark.parametrize("reads", ["random", "clock"])
def test_an_agent_reading_a_random_number_or_the_clock_is_found_nondeterministic(platform, tmp_path, reads) -> None:
    market = bars("AAPL", 30)
    paper_session(platform, agent_id=f"coin-{reads}", code=COIN[reads], archived=market, delivered=market)
    report = reconcile(platform, f"coin-{reads}", tmp_path)
    first = report["summary"]["first_divergence"]
    assert (first["cause"], first["kind"]) == ("agent", "decision"), first
    assert first["detail"].startswith("same bars and portfolio, different decision")
    assert first["left_point"] == first["right_point"]


def test_a_portfolio_changed_across_a_restart_is_a_state_divergence(platform, tmp_path) -> None:
    market = bars("AAPL", 30)
    session = paper_session(platform, agent_id="restarted", archived=market, delivered=market[:15])
    account_id = platform.documents.get(SESSIONS, session.session_id)["account_id"]
    # The account the runtime restores from lost $5,000 while it was down (a bad deposit, a bug).
    cash = platform.documents.get(BROKER_ACCOUNTS, account_id)["cash"]
    platform.documents.update(BROKER_ACCOUNTS, account_id, {"cash": cash - 5_000.0})
    run_runtime(platform, session.session_id, lambda: (publish(platform, market[15:]), 15)[1])
    report = reconcile(platform, "restarted", tmp_path)
    summary, first = report["summary"], report["summary"]["first_divergence"]
    assert [run["decisions"] for run in report["findings"]["runs"]] == [15, 15]
    assert summary["identical"] == 15  # the whole first run
    assert (first["cause"], first["kind"]) == ("state", "portfolio")
    assert first["left_point"] == 16 and first["segment"] == 1
    assert summary["tracking"]["final_gap"] == pytest.approx(-5_000.0)


COIN = {
    "random": '''
import random
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        if random.random() < 0.5:
            self.buy(size=1) if not self.position else self.close()
''',
    "clock": '''
import time
import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        if time.perf_counter_ns() // 1000 % 2:
            self.buy(size=1) if not self.position else self.close()
''',
}


def test_two_backtests_of_one_agent_are_compared_decision_by_decision(platform, tmp_path) -> None:
    backtested_agent(platform, agent_id="versions")
    rows = [m.row() for m in bars("AAPL", 20)]
    stamps = [r["timestamp"] for r in rows]
    frames = replay_frames(rows, ["AAPL"], set(), min(stamps), max(stamps))
    launcher = SandboxedAgentLauncher.for_data_dir(Path(platform.settings.data_dir))
    for run_id, code in (("bt-v1", TRADER), ("bt-v2", TRADER.replace("size=10", "size=20"))):
        bundle_dir = extract_bundle(bundle(code), tmp_path / run_id / "agent" / "bundle")
        recorder = FmelRecorder(platform.warehouse, tmp_path / run_id / "spill")
        fmel = FmelContext(agent_id="versions", user_id="alice", session_id=run_id, sink=recorder.add)
        run = run_backtest(launcher, bundle_dir, frames, scratch=tmp_path / run_id, timeframe="1Min", fmel=fmel)
        recorder.close()
        assert run.error is None, run.error
        store_finished_run(platform.documents, run_id, agent_id="versions")
    report = reconcile(platform, "versions", tmp_path, {"backtests": ["bt-v1", "bt-v2"]})
    summary, first = report["summary"], report["summary"]["first_divergence"]
    assert report["kind"] == "backtests" and summary["decisions_compared"] == 20
    assert summary["identical"] == 2  # the first two decisions hold; the third buys 10, or 20
    assert (first["cause"], first["kind"], first["left_point"]) == ("agent", "decision", 3)
    assert "buy AAPL Market 10 Completed" in first["detail"] and "buy AAPL Market 20 Completed" in first["detail"]
