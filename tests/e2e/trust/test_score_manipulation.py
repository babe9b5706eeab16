"""Score manipulation with plain backtrader calls, through the real API and the real backtest jobs.

Every agent of `agents/` is submitted over HTTP (validation runs), and its automatic backtest runs
as the real job subprocess with the agent in bubblewrap (`arena_stack.open_arena`). An agent
validation rejects is stored directly as well (validation is a lint, not the boundary), so every
manipulation reaches the harness. Each must score exactly what its orders earn when executed
honestly: its honest twin's score (the same orders by construction) and the replay of its
recorded orders on the pre-harness engine. Another user's agent, run and decisions must come out
unchanged, and the leaderboard must rank no manipulator above its twin.
"""

from __future__ import annotations

import io
import json
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.edge.leaderboard_args import leaderboards
from shared.backtest.bundle import extract_bundle, load_agent
from shared.backtest.engine import run_strategy
from shared.market.loader import load_bars
from shared.services.leaderboard import refresh
from shared.validation.bundle import bundle_from_source
from tests.e2e.trust.arena_stack import (
    BARS,
    HONEST,
    TWINS,
    VICTIM_MARK,
    Arena,
    Entrant,
    comparable,
    open_arena,
)
from tests.e2e.trust.trust_stack import (
    END,
    START,
    SYMBOLS,
    agent_source,
    recorded_orders,
    replayed,
)


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Arena]:
    with open_arena(tmp_path_factory.mktemp("farm")) as opened:
        yield opened


def _scored(entrant: Entrant) -> dict[str, Any]:
    """What an agent was scored: scalar metrics (without its decision count), curve and trades."""
    run = entrant.run
    assert run.get("status") == "succeeded", (
        f"{entrant.name}: {run.get('status')} {run.get('error')}"
    )
    metrics = {k: v for k, v in run["metrics"].items() if k != "decisions"}
    return {"metrics": metrics, "equity_curve": run["equity_curve"], "trades": run["trades"]}


def _engine_scored(result: Any) -> dict[str, Any]:
    return {
        "metrics": result.metrics.summary(),
        "equity_curve": result.metrics.equity_curve,
        "trades": result.trades,
    }


@pytest.mark.parametrize("name", sorted(TWINS))
def test_a_manipulator_is_rejected_or_scores_exactly_what_its_honest_twin_scores(
    arena: Arena, name: str
) -> None:
    entrant, twin = arena.entrants[name], arena.entrants[TWINS[name]]
    if (
        not entrant.accepted
    ):  # validation caught it: fine, and its directly stored copy must still fail to cheat
        assert entrant.findings, f"{name} was rejected without findings"
    scored = _scored(entrant)
    assert scored == _scored(twin)
    assert scored["metrics"]["bars"] == BARS and scored["metrics"]["trades"] >= 5


@pytest.mark.parametrize("name", sorted(set(TWINS) | set(HONEST)))
def test_a_score_is_what_the_recorded_orders_earn_when_executed_honestly(
    arena: Arena, name: str
) -> None:
    entrant = arena.entrants[name]
    frames = load_bars(arena.platform.warehouse, list(SYMBOLS), START, END, "1Day")

    reference = replayed(recorded_orders(entrant.rows), frames)

    assert _scored(entrant) == _engine_scored(reference)


@pytest.mark.parametrize("name", HONEST)
def test_an_honest_agent_scores_what_the_pre_harness_engine_scores(
    arena: Arena, name: str, tmp_path: Path
) -> None:
    frames = load_bars(arena.platform.warehouse, list(SYMBOLS), START, END, "1Day")
    bundle = extract_bundle(
        bundle_from_source(agent_source(name).encode()).to_zip(), tmp_path / "bundle"
    )

    reference = run_strategy(load_agent(bundle), frames)

    assert _scored(arena.entrants[name]) == _engine_scored(reference)


def test_every_order_the_host_executed_is_in_the_decision_record(arena: Arena) -> None:
    dropper, twin = arena.entrants["fmel_dropper"], arena.entrants["control"]
    assert _scored(dropper) == _scored(twin)  # the orders were executed (and scored) all the same
    assert recorded_orders(dropper.rows) == recorded_orders(twin.rows)


def test_stopping_the_run_at_a_peak_is_scored_over_the_whole_window(arena: Arena) -> None:
    stopper, twin = arena.entrants["runstop"], arena.entrants["runstop_reference"]
    curve = stopper.run["equity_curve"]

    assert (
        len(curve) == BARS and curve[-1]["timestamp"] == twin.run["equity_curve"][-1]["timestamp"]
    )
    assert len(stopper.rows) == 63 and len(twin.rows) == BARS  # it stopped deciding at bar 63...
    assert curve[-1]["value"] != curve[62]["value"]  # ...but the position it held kept moving
    assert _scored(stopper) == _scored(twin)


def test_look_ahead_is_impossible_and_no_decision_records_a_future_read(
    arena: Arena, tmp_path: Path
) -> None:
    cheat = arena.entrants["look_ahead"]
    frames = load_bars(arena.platform.warehouse, list(SYMBOLS), START, END, "1Day")
    bundle = extract_bundle(
        bundle_from_source(agent_source("look_ahead").encode()).to_zip(), tmp_path / "b"
    )

    # In the pre-harness engine (one process, bars preloaded) the same code did see the future.
    in_process = run_strategy(load_agent(bundle), frames)

    assert "future bars seen: 0" in cheat.output
    assert in_process.metrics.final_value != cheat.run["metrics"]["final_value"]
    assert _scored(cheat) == _scored(arena.entrants["momentum"])
    future = [
        (row["decision_point"], read)
        for row in cheat.rows
        for access in row["data_accessed"]
        for read in access["reads"]
        if read["index"] > 0
    ]
    assert future == []


def test_no_record_of_another_user_changed_and_every_row_is_its_own_runs(arena: Arena) -> None:
    assert arena.victim_after == arena.victim_before
    with zipfile.ZipFile(io.BytesIO(arena.victim_after["bundle"])) as bundle:
        assert VICTIM_MARK in bundle.read("agent.py").decode()
    for entrant in arena.entrants.values():
        run_id = f"{entrant.agent_id}-auto"
        owners = {(r["agent_id"], r["user_id"], r["session_id"], r["mode"]) for r in entrant.rows}
        assert owners <= {(entrant.agent_id, "alice", run_id, "backtest")}, entrant.name
    everyone = arena.platform.warehouse.query(
        "SELECT agent_id, user_id, session_id, COUNT(*) AS n FROM fmel.decisions "
        "GROUP BY agent_id, user_id, session_id",
        {},
    )
    sessions = {(e.agent_id, "alice", f"{e.agent_id}-auto") for e in arena.entrants.values()}
    sessions.add((arena.victim_id, "bob", f"{arena.victim_id}-auto"))
    assert {(r["agent_id"], r["user_id"], r["session_id"]) for r in everyone} <= sessions


def test_forged_notes_sources_and_future_reads_reach_no_record(arena: Arena) -> None:
    forger = arena.entrants["fmel_forger"]

    assert "analyzers in reach: ['DecisionCapture'] fmel: None" in forger.output
    assert len(forger.rows) == BARS
    for row in forger.rows:
        for access in row["data_accessed"]:
            assert access["symbol"] in SYMBOLS and all(
                read["index"] <= 0 for read in access["reads"]
            )
            assert not any("secret" in f or "Fake" in f for f in access["fields"]), access
    # Its notes name the victim, but they are its own notes, in its own rows only.
    assert {(r["agent_id"], r["user_id"]) for r in forger.rows} == {(forger.agent_id, "alice")}
    assert all(json.loads(r["note"])["agent_id"] == "victim" for r in forger.rows)
    assert "victim" not in json.dumps([comparable(r) | {"note": None} for r in forger.rows])


def test_the_leaderboard_ranks_no_manipulator_above_its_honest_twin(arena: Arena) -> None:
    refresh("backtest", leaderboards())  # the cached pages may predate the last results
    board = json.loads(
        urllib.request.urlopen(
            f"{arena.host.url}/api/leaderboard?mode=backtest&metric=score&limit=100", timeout=30
        ).read()
    )
    by_id = {entry["agent_id"]: entry for entry in board["entries"]}
    for name, twin_name in TWINS.items():
        entry, twin = (
            by_id[arena.entrants[name].agent_id],
            by_id[arena.entrants[twin_name].agent_id],
        )
        assert entry["score"] == twin["score"] and entry["metrics"] == twin["metrics"], name
        assert entry["score"]["eligible"], name
        assert entry["rank"] > twin["rank"] or entry["score"]["z"] == twin["score"]["z"], name
