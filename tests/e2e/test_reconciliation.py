"""Reconciliation end to end: real paper sessions on the embedded stack, replayed and diffed.

An honest deterministic agent's session replays 100% identical; each induced divergence is
found at the right decision and classified: a bar dropped between the archive and the runtime
(data), a broker slipping more than the session's model (execution), an agent reading the clock
or a random number (agent), an account that changed across a restart (state).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.bootstrap import Platform
from tests.e2e.reconcile_stack import bars, paper_session, reconcile
from tests.fixtures.common import make_warehouse
from tests.unit.runtime.stack import local_platform


@pytest.fixture
def platform(tmp_path: Path) -> Platform:
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
