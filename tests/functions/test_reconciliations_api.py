"""Reconciliations over real HTTP on the local stack: POST queues one (202, Location), the
`reconciliation-requests` message launches `python -m jobs.reconcile` as a job subprocess, GET
shows the result and the chart; another user's agent is 404; POSTs are rate-limited like
backtests; a redelivered request never launches twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from farm.cli import main
from farm.host import FunctionHost
from shared.app import Application
from shared.schemas.collections import RECONCILIATIONS
from shared.schemas.messages import RunReconciliation
from shared.services.reconciliations import launch_reconciliation
from tests.app_factory import embedded_app
from tests.e2e.reconcile_stack import bars, paper_session
from tests.fixtures.common import wait_for
from tests.functions.agents_stack import Tokens
from tests.unit.runtime.stack import backtested_agent


@pytest.fixture
def host(tmp_path: Path) -> Iterator[tuple[str, Application, Tokens]]:
    data_dir = tmp_path / "data"
    # The test polls a running job 20 times a second: generous general limits, the POST limit kept.
    platform = embedded_app(data_dir, rate_limits=("requests=100000/60",))
    platform.warehouse.ensure_tables()
    served = FunctionHost(platform, port=0).start()
    try:
        yield served.url, platform, Tokens(data_dir)
    finally:
        served.stop()
        platform.close()  # kills the reconciliation jobs it launched, then closes the stores


def test_a_reconciliation_is_queued_run_as_a_job_and_shown_to_its_owner_only(host) -> None:
    url, platform, tokens = host
    alice, bob = tokens.header("alice"), tokens.header("bob")
    market = bars("AAPL", 20)
    session = paper_session(platform, agent_id="api-agent", archived=market, delivered=market)
    base = f"{url}/api/agents/api-agent/paper-trading/reconciliations"
    assert requests.post(base, json={}, headers=bob, timeout=10).status_code == 404  # not bob's agent
    response = requests.post(base, json={}, headers=alice, timeout=10)
    assert response.status_code == 202, response.text
    rid = response.json()["reconciliation_id"]
    assert response.headers["Location"] == f"/api/agents/api-agent/paper-trading/reconciliations/{rid}"
    item = f"{base}/{rid}"

    def finished() -> dict | None:
        body = requests.get(item, headers=alice, timeout=10).json()
        return body if body["status"] in ("succeeded", "failed") else None

    body = wait_for(finished, 60, "the reconciliation job")
    assert body["status"] == "succeeded", body["error"]
    assert body["session_id"] == session.session_id and body["kind"] == "paper"
    assert body["summary"]["identical"] == body["summary"]["decisions_compared"] == 20
    chart = requests.get(f"{item}/chart", headers=alice, timeout=10)
    assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")
    assert requests.get(item, headers=bob, timeout=10).status_code == 404
    assert requests.get(f"{url}/api/agents/other/paper-trading/reconciliations/{rid}", headers=alice,
                        timeout=10).status_code == 404  # another agent's path
    # A redelivered request changes nothing: the reconciliation is already finished.
    doc = platform.documents.get(RECONCILIATIONS, rid)
    command = RunReconciliation(reconciliation_id=rid, agent_id="api-agent", owner_uid="alice", kind="paper",
                                session_id=doc["session_id"])
    assert launch_reconciliation(command, documents=platform.documents, launcher=_NeverLaunch()) is None


def test_farm_reconcile_prints_the_summary_and_saves_the_chart(host, tmp_path, capsys) -> None:
    url, platform, tokens = host
    market = bars("AAPL", 12)
    paper_session(platform, agent_id="cli-agent", archived=market, delivered=market)
    chart = tmp_path / "reconcile.png"
    code = main(["reconcile", "cli-agent", "--token", tokens("alice"), "--url", url, "--chart", str(chart)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "paper vs replay: 12 decisions compared, 12 identical (100.0%), 0 diverged" in out
    assert "every decision replay made matches paper's" in out and "AAPL fills" in out
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_posts_are_rate_limited_like_backtests_and_need_a_session(host) -> None:
    url, platform, tokens = host
    agent_id = uuid.uuid4().hex
    backtested_agent(platform, agent_id=agent_id)
    base = f"{url}/api/agents/{agent_id}/paper-trading/reconciliations"
    auth = tokens.header("alice")
    statuses = [requests.post(base, headers=auth, timeout=10) for _ in range(6)]
    assert [r.status_code for r in statuses[:5]] == [409] * 5  # never paper traded
    assert "never paper traded" in statuses[0].json()["error"]["message"]
    assert statuses[5].status_code == 429 and int(statuses[5].headers["Retry-After"]) >= 1
    bad = requests.post(f"{url}/api/agents/{uuid.uuid4().hex}/paper-trading/reconciliations", json={"x": 1},
                        headers=tokens.header("carol"), timeout=10)
    assert bad.status_code == 400


class _NeverLaunch:
    def launch(self, run: RunReconciliation) -> None:
        raise AssertionError("a finished reconciliation was launched again")
