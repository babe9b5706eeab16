"""`farm backtest` against the local stack's API: the options reach the run, progress is shown
while it waits, synthetic data is said so, and the chart is saved."""

from __future__ import annotations

from pathlib import Path

import pytest

from farm.cli import main
from tests.e2e.test_fair_rankings_e2e import api, finished_run, stack, submit

__all__ = ["stack"]  # the local stack fixture, shared with the rankings tests


def test_farm_backtest_runs_with_the_given_options_and_shows_progress_data_and_chart(
    stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, auth, _ = stack
    agent_id = submit(url, auth, "cli", 9)
    finished_run(url, auth, f"{agent_id}-auto")
    token = auth["Authorization"].split()[1]
    chart = tmp_path / "chart.png"
    code = main(["backtest", agent_id, "--url", url, "--token", token, "--symbols", "AAPL,MSFT",
                 "--timeframe", "1Day", "--cash", "50000", "--commission", "0.001", "--chart", str(chart)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "queued" in out and "succeeded after" in out
    assert "2 symbols" in out and "cash 50000.0, commission 0.001" in out
    assert "data: SYNTHETIC - synthetic market data" in out
    assert chart.read_bytes().startswith(b"\x89PNG")
    runs = api(url, auth, "GET", f"/api/agents/{agent_id}/backtests").json()["runs"]
    mine = next(r for r in runs if not r["standard"])
    assert (mine["request"]["cash"], mine["request"]["commission"]) == (50_000.0, 0.001)
    assert main(["backtest", agent_id, "--url", url]) == 2  # no token: said plainly
    assert "--user" in capsys.readouterr().err
