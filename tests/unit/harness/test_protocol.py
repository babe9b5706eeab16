"""The trusted host against an agent that breaks the channel's rules (`fake_agent.py`).

The host here is the real one (`run_backtest`: the conductor process, the host's cerebro, the
platform's broker, FMEL); only the agent is a script speaking the wire protocol by hand. What
cannot be true is dropped and counted, or the run fails with a clear error: the host never
raises, never hangs, and never leaves the agent's process running.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.backtest.engine import FmelContext
from shared.harness.backtest_host import HarnessRun, run_backtest
from shared.harness.links import NO_RESULT
from tests.e2e.trust.trust_stack import market_frames
from tests.unit.harness.fake_agent import BAD_ORDERS

ROOT = Path(__file__).resolve().parents[3]
FRAMES = market_frames(
    ("AAA", "BBB"), datetime(2023, 1, 1, tzinfo=UTC), datetime(2023, 2, 1, tzinfo=UTC)
)
BARS = len(FRAMES["AAA"])
pytestmark = pytest.mark.timeout(60)


class FakeLauncher:
    """An `AgentLauncher` starting `fake_agent.py` (no sandbox: the agent here is only a script)."""

    def __init__(self, scenario: str) -> None:
        self.scenario = scenario
        self.process: subprocess.Popen[bytes] | None = None

    def start(
        self, *, bundle_dir: Path, output_fd: int, cpu: int | None = None
    ) -> tuple[subprocess.Popen[bytes], int, int]:
        read_fd, to_agent = os.pipe()
        from_agent, write_fd = os.pipe()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.unit.harness.fake_agent",
                "--in",
                str(read_fd),
                "--out",
                str(write_fd),
                "--scenario",
                self.scenario,
            ],
            pass_fds=(read_fd, write_fd),
            stdout=output_fd,
            stderr=output_fd,
            cwd=ROOT,
            start_new_session=True,
        )
        os.close(read_fd)
        os.close(write_fd)
        return self.process, to_agent, from_agent


@dataclass
class Outcome:
    """A finished run against one scenario."""

    run: HarnessRun
    rows: list[dict[str, Any]]
    seconds: float
    agent_code: int | None


def run(scenario: str, tmp_path: Path) -> Outcome:
    launcher = FakeLauncher(scenario)
    rows: list[dict[str, Any]] = []
    fmel = FmelContext(agent_id="agent-1", user_id="alice", session_id="run-1", sink=rows.append)
    bundle = tmp_path / "agent" / "bundle"
    bundle.mkdir(parents=True)
    started = time.monotonic()
    harness = run_backtest(launcher, bundle, FRAMES, scratch=tmp_path / "host", fmel=fmel)
    assert launcher.process is not None
    return Outcome(harness, rows, time.monotonic() - started, launcher.process.poll())


def actions(outcome: Outcome) -> list[list[dict[str, Any]]]:
    return [
        [{k: v for k, v in a.items() if k != "order_id"} for a in r["actions"]]
        for r in outcome.rows
    ]


def scored(outcome: Outcome) -> tuple[Any, Any]:
    result = outcome.run.result
    assert result is not None, outcome.run.error
    return result.metrics.summary(), result.trades


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    outcome = run("honest", tmp_path_factory.mktemp("honest"))
    assert outcome.run.error is None and outcome.run.violations == outcome.run.dropped_reads == 0
    assert len(outcome.rows) == BARS and len(outcome.run.result.trades) == 1
    return outcome


@pytest.mark.parametrize(
    ("scenario", "says"),
    [
        ("malformed", "broke the channel protocol"),
        ("not_an_array", "broke the channel protocol"),
        ("oversized", "over the 1048576-byte limit"),
        ("truncated", "closed in the middle of a message"),
        ("out_of_step", "a reply out of step"),
        ("twice", "a reply out of step"),
        ("wrong_length", "a reply out of step"),
        ("unexpected_kind", "unexpected 'bars'"),
        ("error_not_text", "unexpected 'error'"),
        ("step_before_ready", "unexpected 'step'"),
        ("exit_before_ready", NO_RESULT),
        ("exit_mid_run", "exited with code 3"),
    ],
)
def test_a_broken_channel_fails_the_run_cleanly_and_ends_the_agent(
    scenario: str, says: str, tmp_path: Path
) -> None:
    outcome = run(scenario, tmp_path)

    assert outcome.run.result is None and outcome.run.error is not None
    assert says in outcome.run.error, outcome.run.error
    assert outcome.agent_code is not None, "the agent's process was left running"
    assert outcome.seconds < 30


def test_an_agents_huge_error_is_kept_to_its_last_8000_characters(tmp_path: Path) -> None:
    outcome = run("huge_error", tmp_path)

    assert outcome.run.result is None and len(outcome.run.error) == 8000
    assert outcome.run.error.endswith(" THE END")


def test_orders_that_cannot_be_true_are_counted_and_never_placed(
    honest: Outcome, tmp_path: Path
) -> None:
    outcome = run("bad_orders", tmp_path)

    assert outcome.run.error is None
    assert outcome.run.violations == len(BAD_ORDERS)
    assert scored(outcome) == scored(honest)  # only the honest orders among them were placed
    assert actions(outcome) == actions(honest)


def test_cancels_of_orders_it_never_placed_are_counted(honest: Outcome, tmp_path: Path) -> None:
    outcome = run("unknown_cancels", tmp_path)

    assert outcome.run.error is None and outcome.run.violations == 4
    assert scored(outcome) == scored(honest)


def test_at_most_256_orders_a_step_are_placed_and_the_rest_counted(tmp_path: Path) -> None:
    outcome = run("too_many_orders", tmp_path)

    assert outcome.run.error is None and outcome.run.violations == 300 - 256
    assert len(outcome.rows[0]["actions"]) == 256


def test_reads_after_the_current_bar_are_dropped_and_never_recorded(
    honest: Outcome, tmp_path: Path
) -> None:
    outcome = run("future_reads", tmp_path)

    assert outcome.run.error is None and outcome.run.dropped_reads == 2 * BARS
    assert scored(outcome) == scored(honest)
    indexes = {
        read["index"]
        for row in outcome.rows
        for access in row["data_accessed"]
        for read in access["reads"]
    }
    assert indexes == {0, -1, -2}  # [0, -1, 2]: two bars ending yesterday


def test_sources_and_reads_that_name_nothing_real_are_dropped(
    honest: Outcome, tmp_path: Path
) -> None:
    outcome = run("bad_sources", tmp_path)

    assert outcome.run.error is None and outcome.run.dropped_reads > 0
    assert scored(outcome) == scored(honest)
    for row in outcome.rows:
        for access in row["data_accessed"]:
            assert access["symbol"] in ("AAA", "BBB")
            assert set(access["fields"]) <= {
                "open",
                "high",
                "low",
                "close",
                "volume",
                "openinterest",
                "trade_count",
                "vwap",
            } or all(":" in f for f in access["fields"])


def test_a_forged_note_stays_a_capped_note_of_the_runs_own_record(
    honest: Outcome, tmp_path: Path
) -> None:
    outcome = run("note_forgery", tmp_path)

    assert outcome.run.error is None and scored(outcome) == scored(honest)
    assert {(r["agent_id"], r["user_id"], r["session_id"]) for r in outcome.rows} == {
        ("agent-1", "alice", "run-1")
    }
    note = outcome.rows[0]["note"]
    assert (
        note is not None and len(note) < 16 * 300 and "x" * 201 not in note and "nested" not in note
    )


def test_an_agent_that_says_done_early_is_scored_over_the_whole_window(tmp_path: Path) -> None:
    outcome = run("done_early", tmp_path)

    assert outcome.run.error is None
    metrics, trades = scored(outcome)
    assert (
        metrics["bars"] == BARS and trades == []
    )  # still holding: an open position, no closed trade
    assert len(outcome.rows) == 3 and metrics["final_value"] != outcome.rows[-1]["portfolio_value"]


def test_orders_of_a_step_with_a_made_up_stage_are_still_recorded(
    honest: Outcome, tmp_path: Path
) -> None:
    outcome = run("stage_lies", tmp_path)

    assert outcome.run.error is None and scored(outcome) == scored(honest)
    assert sum(len(r["actions"]) for r in outcome.rows) == 2
