"""A Python client generated from the served OpenAPI document drives submit -> backtest ->
leaderboard on the local stack (real host, real sandboxed backtest jobs, synthetic market).

openapi-python-client (pinned in requirements-dev.txt) runs offline on the document the API
serves; the generated package is imported from a temporary folder and used as a user would.
"""

from __future__ import annotations

import importlib
import io
import json
import shutil
import subprocess
import sys
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

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
pytestmark = pytest.mark.skipif(not GENERATOR.exists() and shutil.which("openapi-python-client") is None,
                                reason="openapi-python-client is not installed (pip install -r requirements-dev.txt)")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, str, Application]]:
    limits = tuple(f"{c}=100000/60" for c in ("requests", "submissions", "backtests"))
    platform = embedded_app(tmp_path / "data", backtest_budget_s=120, port=0, rate_limits=limits)
    platform.warehouse.ensure_tables()
    start, end = default_window(utc_now())
    write_synthetic_market(platform.warehouse, DEFAULT_SYMBOLS, start, end)
    host = FunctionHost(platform, port=0).start()
    try:
        yield host.url, Tokens(tmp_path / "data")("alice"), platform
    finally:
        host.stop()
        platform.close()  # jobs first, then the stores


def generate(url: str, into: Path) -> Any:
    """Generate `farm_client` from the served document and import it."""
    document = into / "openapi.json"
    document.write_text(json.dumps(requests.get(url + "/api/openapi.json", timeout=30).json()))
    config = into / "config.yaml"
    config.write_text("post_hooks: []\nproject_name_override: farm_client\npackage_name_override: farm_client\n")
    binary = str(GENERATOR) if GENERATOR.exists() else "openapi-python-client"
    done = subprocess.run([binary, "generate", "--path", str(document), "--output-path", str(into / "farm_client"),
                           "--config", str(config), "--meta", "none"], capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(into))
    try:
        return importlib.import_module("farm_client")
    finally:
        sys.path.remove(str(into))



def test_a_generated_client_submits_backtests_and_reads_the_leaderboard(stack, tmp_path: Path) -> None:
    url, token, _ = stack
    generate(url, tmp_path)
    from farm_client import AuthenticatedClient
    from farm_client.api.default import (
        get_backtest,
        get_backtest_curves,
        get_leaderboard,
        list_backtests,
        start_backtest,
        submit_agent,
    )
    from farm_client.models import AgentUpload, Backtest, BacktestRequest
    from farm_client.types import File

    client = AuthenticatedClient(base_url=url, token=token, timeout=60)
    upload = AgentUpload(file=File(payload=io.BytesIO(SMA_SOURCE.encode()), file_name="sma.py",
                                   mime_type="text/x-python"), name="generated")
    submitted = submit_agent.sync(client=client, body=upload)  # multipart, as the document says
    assert submitted is not None and submitted.status in ("stored", "backtesting", "backtested"), submitted
    agent_id = submitted.agent_id

    def succeeded(run_id: str) -> Any:
        run = get_backtest.sync(run_id=run_id, client=client)
        # Error (404) until the trigger has queued the standard run
        return run if isinstance(run, Backtest) and run.status in ("succeeded", "failed") else None

    standard = wait_for(lambda: succeeded(f"{agent_id}-auto"), 120, "the standard evaluation", every_s=0.3)
    assert standard.status == "succeeded" and standard.standard is True

    # No body at all: the generated client still sends Content-Type application/json.
    defaults = start_backtest.sync_detailed(agent_id, client=client)
    assert defaults.status_code == 202, defaults.content
    chosen = start_backtest.sync(agent_id, client=client, body=BacktestRequest(symbols=["AAPL", "MSFT"]))
    assert chosen is not None and chosen.status == "queued"
    for run_id in (json.loads(defaults.content)["run_id"], chosen.run_id):
        assert wait_for(lambda run_id=run_id: succeeded(run_id), 120, run_id, every_s=0.3).status == "succeeded"
    runs = list_backtests.sync(agent_id, client=client)
    assert runs is not None and len(runs.runs) == 3 and sum(r.standard for r in runs.runs) == 1

    curves = get_backtest_curves.sync(run_id=chosen.run_id, client=client)
    assert curves is not None and len(curves.benchmark) == len(curves.equity) and curves.data.synthetic

    page = get_leaderboard.sync(client=client)
    assert page is not None and [e.agent_id for e in page.entries] == [agent_id]
    assert page.evaluation.symbols == list(DEFAULT_SYMBOLS)
    assert page.data.synthetic is True
