"""Reconciliation benchmark (SPEC §12): a 10,000-decision paper session, reconciled, vs a plain backtest.

Run with `pytest -m benchmark bench/test_bench_reconcile.py -s`. One symbol, 10,000 synthetic
one-minute bars archived into the local warehouse as the ingester does and published on the bus;
the real paper runtime (`AgentRuntime`, the agent sandboxed) trades them with the SMA-cross
agent of the backtest benchmark, recording 10,000 FMEL decisions. Then, best of `REPEATS`
interleaved runs, wall clock:

- plain backtest: the same bars through the backtest host (`run_backtest`, the agent sandboxed),
  FMEL persisted into the warehouse as a backtest job does;
- reconciliation: the whole job (`run_reconciliation`): the session's rows and the archive read
  from the warehouse, the agent replayed in its sandbox over the paper channel with the session's
  broker, the diff, the report and the chart stored.

Target: reconciliation <= 1.5x the plain backtest.
"""

from __future__ import annotations

import gc
import io
import shutil
import tempfile
import threading
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bench.test_bench_backtest import AGENT_SOURCE
from jobs.reconcile.job import run_reconciliation
from runtime.app import AgentRuntime, RuntimeOptions
from shared.app import Application
from shared.backtest.bundle import extract_bundle
from shared.backtest.engine import FmelContext
from shared.domain.clock import now_iso
from shared.fmel import FmelRecorder
from shared.harness.backtest_host import run_backtest
from shared.harness.sandboxed import SandboxedAgentLauncher
from shared.market.loader import load_bars
from shared.market.messages import BarMessage, encode
from shared.market.synthetic import generate_bars
from shared.schemas.collections import AGENTS, RECONCILIATIONS, SESSIONS
from shared.schemas.messages import RunReconciliation
from shared.schemas.topics import MARKET_DATA
from shared.services import reconciliations
from shared.settings import Settings
from shared.venues.simulated.accounts import SimulatedAccounts

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(3600)]
DECISIONS = 10_000
REPEATS = 2
TARGET = 1.5


def _bars() -> list[BarMessage]:
    start = datetime(2024, 1, 2, tzinfo=UTC)
    bars = generate_bars(["AAPL"], start, datetime(2024, 3, 1, tzinfo=UTC), "1Min")["AAPL"][:DECISIONS]
    assert len(bars) == DECISIONS
    return [BarMessage.of("bar", bar) for bar in bars]


def _session(platform: Application, messages: list[BarMessage]) -> tuple[str, float]:
    """Paper-trade the bars with the real runtime; return the session and how long it took."""
    key = "agents/alice/bench/bundle.zip"
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("agent.py", AGENT_SOURCE)
    platform.blobs.put(key, zipped.getvalue())
    at = now_iso()
    platform.documents.set(AGENTS, "bench", {"owner_uid": "alice", "name": "bench", "status": "deploying",
                                            "bundle_key": key, "history": [], "paper_session": "ps-bench",
                                            "deleted": False, "created_at": at, "updated_at": at})
    accounts = SimulatedAccounts(platform.documents)
    account = accounts.create_account("alice", "bench")
    accounts.fund("alice", account.account_id, 25_000.0, idempotency_key="bench")
    platform.documents.set(SESSIONS, "ps-bench", {
        "owner_uid": "alice", "agent_id": "bench", "account_id": account.account_id, "symbols": ["AAPL"],
        "timeframe": "1Min", "topics": [MARKET_DATA], "state": "deploying", "desired": "running",
        "starting_value": 25_000.0, "last_decision_point": 0, "lost_decisions": 0, "fmel_gaps": [],
        "restarts": 0, "created_at": at, "updated_at": at,
    })
    ingested = datetime.now(UTC)
    platform.warehouse.insert_rows("market_data.bars", [m.row() | {"ingested_at": ingested} for m in messages])
    platform.messages.create_topic(MARKET_DATA)
    runtime = AgentRuntime(platform, "ps-bench", RuntimeOptions(heartbeat_s=0.5, flush_s=0.5))
    thread = threading.Thread(target=runtime.run, daemon=True)
    thread.start()
    assert runtime.ready.wait(30)
    started = time.perf_counter()
    for i in range(0, len(messages), 500):
        platform.messages.publish(MARKET_DATA, [encode(m) for m in messages[i:i + 500]])
    deadline = time.monotonic() + 900
    while (platform.documents.get(SESSIONS, "ps-bench") or {}).get("last_decision_point", 0) < DECISIONS:
        assert time.monotonic() < deadline, "the paper session did not reach 10,000 decisions"
        time.sleep(0.2)
    took = time.perf_counter() - started
    runtime.request_stop()
    thread.join(60)
    return "ps-bench", took


def _backtest(platform: Application, frames: Any, work: Path) -> float:
    bundle_dir = extract_bundle(platform.blobs.get("agents/alice/bench/bundle.zip"), work / "agent" / "bundle")
    recorder = FmelRecorder(platform.warehouse, work / "spill")
    context = FmelContext(agent_id="bench", user_id="alice", session_id=f"bt-{work.name}", sink=recorder.add)
    gc.collect()
    started = time.perf_counter()
    run = run_backtest(SandboxedAgentLauncher.for_data_dir(platform.settings.data_dir), bundle_dir, frames,
                       scratch=work, timeframe="1Min", fmel=context)
    recorder.close()
    took = time.perf_counter() - started
    assert run.error is None and run.result is not None and run.result.decisions == DECISIONS, run.error
    return took


def _reconcile(platform: Application, work: Path) -> tuple[float, dict[str, Any]]:
    platform.messages.create_topic(RunReconciliation.TOPIC)
    queued = reconciliations.request_reconciliation("alice", "bench", {}, documents=platform.documents,
                                                    messages=platform.messages)
    rid = queued["reconciliation_id"]
    platform.documents.update(RECONCILIATIONS, rid, {"status": "running"})
    launcher = SandboxedAgentLauncher.for_data_dir(platform.settings.data_dir)
    gc.collect()
    started = time.perf_counter()
    run_reconciliation(rid, platform, launcher, work)
    took = time.perf_counter() - started
    return took, reconciliations.get_reconciliation("alice", "bench", rid, documents=platform.documents)


def test_reconciling_a_10000_decision_session_costs_at_most_one_and_a_half_backtests() -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-reconcile-"))
    try:
        platform = Application(Settings(backend="local", data_dir=root / "data"))
        platform.warehouse.ensure_tables()
        messages = _bars()
        session_id, paper_s = _session(platform, messages)
        first, last = messages[0].bar.timestamp, messages[-1].bar.timestamp
        frames = load_bars(platform.warehouse, ["AAPL"], first, last + (last - messages[-2].bar.timestamp), "1Min")
        best = {"backtest": float("inf"), "reconciliation": float("inf")}
        report: dict[str, Any] = {}
        for i in range(REPEATS):
            best["backtest"] = min(best["backtest"], _backtest(platform, frames, root / f"bt{i}"))
            took, report = _reconcile(platform, root / f"rc{i}")
            best["reconciliation"] = min(best["reconciliation"], took)
        summary = report["summary"]
        ratio = best["reconciliation"] / best["backtest"]
        print(f"\n{DECISIONS} decisions of session {session_id} (paper trading them took {paper_s:.1f}s): "
              f"plain backtest {best['backtest']:.2f}s, reconciliation {best['reconciliation']:.2f}s "
              f"(replay {report['findings']['replay_seconds']:.2f}s of it): {ratio:.2f}x")
        print(f"  {summary['identical']} of {summary['decisions_compared']} decisions identical; last run's parts: "
              + ", ".join(f"{k} {v}" for k, v in report["findings"].items() if k.endswith("_seconds")))
        assert report["status"] == "succeeded", report["error"]
        assert summary["decisions_compared"] == summary["identical"] == DECISIONS
        assert ratio <= TARGET, f"reconciliation {ratio:.2f}x a plain backtest"
    finally:
        shutil.rmtree(root, ignore_errors=True)
