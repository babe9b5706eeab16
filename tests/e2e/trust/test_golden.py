"""The golden test: for honest agents the trust boundary changes nothing.

Each agent of the corpus (the example, the validation corpus's ordinary strategies, and the
`agents/golden_*.py` written for the order types the harness relays) runs twice on the same bars:
through the harness (the host's cerebro, the agent in the real bubblewrap sandbox) and through
`run_strategy`, the pre-harness engine kept as the reference. Metrics, trades and FMEL rows (but
`recorded_at` and the broker's `order_id`) must be equal, exactly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shared.backtest.bundle import extract_bundle, load_agent
from shared.backtest.engine import EngineResult, FmelContext, run_strategy
from shared.harness.backtest_host import HarnessRun, run_backtest
from shared.harness.sandboxed import SandboxedAgentLauncher
from shared.validation.bundle import bundle_from_source
from tests.e2e.trust.trust_stack import AGENTS, market_frames

ROOT = Path(__file__).resolve().parents[3]
ORDINARY = ROOT / "tests" / "unit" / "validation" / "corpus" / "ordinary"
CORPUS = {"example_sma_crossover": ROOT / "examples" / "sma_crossover.py"}
CORPUS |= {path.stem: path for path in sorted(ORDINARY.glob("*.py"))}
CORPUS |= {path.stem: path for path in sorted(AGENTS.glob("golden_*.py"))}

# Not comparable, for reasons that are not the harness's: left out of the golden set.
LEFT_OUT = {
    # backtrader's once-mode (runonce, preloaded: the reference) and next-mode (bar by bar: the only
    # mode without future bars) compute a LinesCoupler'd PivotPoint differently.
    "sample_pivot_points",
    # reads close[-20] from bar 15 on: backtrader wraps the negative index, so the preloaded
    # reference reads a bar from the END of the window (look-ahead); the harness cannot.
    "dataclass_risk",
    # it reads `maxdd` from a DrawDown analyzer that has no such value: the reference fails too.
    "sample_analyzer_in_code",
}
# Cases whose harness run may differ from the reference, with why (none today: the harness bugs
# this corpus found are fixed, and each case above now guards its fix).
KNOWN: dict[str, tuple[str | None, str | None]] = {}
FRAMES = market_frames(("AAA", "BBB", "CCC"), late={"CCC": 20})  # CCC lists 20 bars late


@dataclass
class Pair:
    """One agent run both ways."""

    harness: HarnessRun
    harness_rows: list[dict[str, Any]]
    reference: EngineResult | None
    reference_rows: list[dict[str, Any]]
    reference_error: str | None = None


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pair]:
    root = tmp_path_factory.mktemp("golden")
    names = [name for name in CORPUS if name not in LEFT_OUT]
    bundles = {
        name: extract_bundle(
            bundle_from_source(CORPUS[name].read_bytes()).to_zip(), root / name / "agent" / "bundle"
        )
        for name in names
    }
    references = {
        name: _reference(bundles[name]) for name in names
    }  # one at a time: it imports the agent here
    launcher = SandboxedAgentLauncher()

    def harness(name: str) -> tuple[HarnessRun, list[dict[str, Any]]]:
        rows: list[dict[str, Any]] = []
        run = run_backtest(
            launcher, bundles[name], FRAMES, scratch=root / name / "host", fmel=_fmel(rows.append)
        )
        return run, rows

    with ThreadPoolExecutor(
        2
    ) as pool:  # the host's cerebro and the sandboxed agent: two processes each
        harnessed = dict(zip(names, pool.map(harness, names), strict=True))
    return {name: Pair(*harnessed[name], *references[name]) for name in names}


def _fmel(sink: Callable[[dict[str, Any]], None]) -> FmelContext:
    return FmelContext(agent_id="agent", user_id="alice", session_id="golden", sink=sink)


def _reference(bundle: Path) -> tuple[EngineResult | None, list[dict[str, Any]], str | None]:
    rows: list[dict[str, Any]] = []
    try:
        return run_strategy(load_agent(bundle), FRAMES, fmel=_fmel(rows.append)), rows, None
    except Exception as exc:  # noqa: BLE001 - reported by the test of that agent
        return None, rows, repr(exc)


def _cases(which: int) -> list[Any]:
    cases = []
    for name in CORPUS:
        if name in LEFT_OUT:
            continue
        bug = KNOWN.get(name, (None, None))[which]
        cases.append(
            pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=bug)) if bug else name
        )
    return cases


def _comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        kept = {k: v for k, v in row.items() if k != "recorded_at"}
        kept["actions"] = [{k: v for k, v in a.items() if k != "order_id"} for a in kept["actions"]]
        out.append(kept)
    return out


@pytest.mark.parametrize("name", _cases(0))
def test_the_harness_scores_an_honest_agent_exactly_as_the_pre_harness_engine(
    golden: dict[str, Pair], name: str
) -> None:
    pair = golden[name]
    assert pair.harness.error is None, pair.harness.error
    assert pair.reference is not None, pair.reference_error
    assert pair.harness.violations == 0 or name == "golden_cancel_same_bar"  # see the next test
    result = pair.harness.result
    assert dataclasses.asdict(result.metrics) == dataclasses.asdict(pair.reference.metrics)
    assert result.trades == pair.reference.trades
    assert result.decisions == pair.reference.decisions


@pytest.mark.parametrize("name", _cases(1))
def test_the_harness_records_an_honest_agents_decisions_exactly_as_the_pre_harness_engine(
    golden: dict[str, Pair], name: str
) -> None:
    pair = golden[name]
    assert pair.harness.error is None and pair.reference is not None
    assert pair.harness.dropped_reads == 0 or name in ("sample_btfd", "sample_macd_atr_stop")
    assert _comparable(pair.harness_rows) == _comparable(pair.reference_rows)


def test_the_corpus_trades_every_order_type_the_harness_relays(golden: dict[str, Pair]) -> None:
    kinds = {
        (action["order_type"], action["side"])
        for pair in golden.values()
        for row in pair.harness_rows
        for action in row["actions"]
    }
    assert {"Market", "Limit", "Stop", "StopLimit", "StopTrail", "StopTrailLimit"} <= {
        k for k, _ in kinds
    }
    assert {"buy", "sell"} == {side for _, side in kinds}
    assert (
        sum(len(pair.harness.result.trades) for pair in golden.values() if pair.harness.result)
        > 200
    )
