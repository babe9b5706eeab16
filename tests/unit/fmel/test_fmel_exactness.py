"""The decision record says exactly what the agent did and read, through the sandboxed harness."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bench.workloads import RecentRows, frames
from shared.backtest.engine import FmelContext
from shared.harness.backtest_host import run_backtest
from shared.harness.sandboxed import SandboxedAgentLauncher

DATA = frames(2, "1Day", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC))


def record(tmp_path: Path, source: str, cash: float = 25_000.0) -> list[dict[str, Any]]:
    bundle = tmp_path / "agent" / "bundle"
    bundle.mkdir(parents=True)
    (bundle / "agent.py").write_text(source)
    sink = RecentRows(keep=10_000)
    run = run_backtest(SandboxedAgentLauncher(), bundle, DATA, scratch=tmp_path, cash=cash,
                       fmel=FmelContext(agent_id="a", user_id="u", session_id="s", sink=sink.add))
    shutil.rmtree(tmp_path / "agent", ignore_errors=True)
    assert run.error is None, run.error
    return list(sink.rows)


def test_a_strategy_that_reads_no_price_records_no_reads_even_when_it_orders(tmp_path) -> None:
    rows = record(tmp_path, """import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        if len(self) % 5 == 0:
            self.buy(size=1)
        elif len(self) % 5 == 2:
            self.close()
""")

    assert any(r["action"] == "TRADED" for r in rows)
    assert all(r["data_accessed"] == [] and r["access_count"] == 0 for r in rows)


def test_indicators_made_in_start_are_recorded_as_read(tmp_path) -> None:
    rows = record(tmp_path, """import backtrader as bt


class Agent(bt.Strategy):
    def start(self):
        self.fast = bt.ind.SMA(self.data, period=3)

    def next(self):
        if self.fast[0] > 0:
            pass
""")

    fields = {f for r in rows for d in r["data_accessed"] for f in d["fields"]}
    assert fields == {"SMA:close[-2..0]"}


def test_an_order_refused_for_margin_is_not_a_trade(tmp_path) -> None:
    rows = record(tmp_path, """import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        if len(self) == 3:
            self.buy(size=1_000_000)
""", cash=1_000.0)

    [ordered] = [r for r in rows if r["actions"]]
    assert ordered["actions"][0]["status"] == "Margin"
    assert ordered["action"] == "HOLD"
    assert all(r["action"] != "TRADED" for r in rows)


@pytest.mark.parametrize("reader", ["self.data.close[1]", "self.data.open[2]"])
def test_a_future_bar_cannot_be_read_and_the_agent_fails_on_it(tmp_path, reader) -> None:
    bundle = tmp_path / "agent" / "bundle"
    bundle.mkdir(parents=True)
    (bundle / "agent.py").write_text(f"""import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        peek = {reader}
        if peek > self.data.close[0]:
            self.buy(size=1)
""")

    run = run_backtest(SandboxedAgentLauncher(), bundle, DATA, scratch=tmp_path)

    assert run.result is None and "IndexError" in (run.error or "")


def test_an_indicator_read_is_named_with_its_parameters_input_and_the_value_it_returned(tmp_path) -> None:
    rows = record(tmp_path, """import backtrader as bt


class Agent(bt.Strategy):
    def __init__(self):
        self.sma = bt.ind.SMA(self.datas[0], period=3)

    def next(self):
        self.sma[0]
""")

    closes = DATA["S00"]["close"]
    row = rows[5]  # the decision on the sixth bar: SMA of bars 4..6
    [indicator] = row["indicators"]
    assert indicator | {"value": None} == {"name": "SMA", "params": "period=3", "line": "",
                                           "input": "S00 close", "index": 0, "value": None}
    assert indicator["value"] == pytest.approx(closes.iloc[3:6].mean())


def test_the_agents_note_is_kept_with_its_decision_and_survives_the_warehouse(tmp_path, warehouse) -> None:
    rows = record(tmp_path, """import backtrader as bt


class Agent(bt.Strategy):
    def next(self):
        self.fmel.note(signal=0.73, reason="trend" * 100, bars=len(self))
""")

    note = json.loads(rows[2]["note"])
    assert note == {"signal": 0.73, "reason": ("trend" * 100)[:200], "bars": 3}
    warehouse.insert_rows("fmel.decisions", rows)
    stored = {r["decision_point"]: r for r in warehouse.query("SELECT * FROM fmel.decisions")}
    assert json.loads(stored[3]["note"]) == note
    assert stored[3]["indicators"] == []

