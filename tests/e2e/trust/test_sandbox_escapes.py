"""Sandbox escapes: hostile agents stored straight into the stores (as if the lint had been evaded),
each backtested by the real job (`python -m jobs.backtest`, via the LocalJobLauncher) with the
agent in the real bubblewrap sandbox (`escape_stack.hostile_runs`).

Every agent prints what each attempt got; the assertions are made from the host's side: the
files it aimed at are unchanged, the listeners this test opens got nothing, no marked process is
left, and no secret appears in any result, error, output, log or decision of any run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.adapters.local.sandbox import SandboxLimits
from shared.harness.output import DEFAULT_OUTPUT_CAP
from tests.e2e.trust.escape_stack import (
    DISK_ATTEMPT_MIB,
    FILE_CAP,
    MARKER,
    ROOT,
    SITE_PACKAGES,
    SLEEPER_BUDGET_S,
    Escapes,
    hostile_runs,
)


@pytest.fixture(scope="module")
def escapes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Escapes]:
    with hostile_runs(tmp_path_factory) as seen:
        yield seen


def test_every_hostile_run_ended_with_a_published_result(escapes: Escapes) -> None:
    for run in escapes.runs.values():
        assert run.event is not None and run.event.status in ("succeeded", "failed"), run.name
    for name in (
        "escape_writer",
        "escape_network",
        "escape_linger",
        "escape_forkbomb",
        "escape_disk",
        "escape_printer",
    ):  # a blocked attempt is no failure of the run
        assert escapes.runs[name].event.status == "succeeded", (
            name,
            escapes.runs[name].event.error,
        )


@pytest.mark.parametrize("name", ["escape_snoop", "escape_snoop_host_env"])
def test_no_secret_reaches_any_result_error_output_log_or_decision(
    escapes: Escapes, name: str
) -> None:
    snoop = escapes.runs[name]
    assert "snoop done" in snoop.output  # every attempt was made...
    assert snoop.event.status == "failed" and "loot:" in snoop.event.error  # ...and handed back
    assert "processes visible: ['1']" in snoop.output  # its own PID namespace, nothing else
    for run in escapes.runs.values():
        for label, secret in escapes.secrets.items():
            leaked = [i for i, text in enumerate(run.texts) if secret in text]
            assert not leaked, f"{label} leaked into {run.name} ({leaked})"
    assert "APCA_" not in snoop.output and "GOOGLE_" not in snoop.output


def test_nothing_is_written_outside_the_workspace(escapes: Escapes) -> None:
    writer = escapes.runs["escape_writer"]
    assert "writer done" in writer.output
    assert "create in /tmp: DONE" in writer.output  # its own private /tmp only
    assert escapes.after == escapes.before
    assert escapes.victim_doc[1] == escapes.victim_doc[0]  # the document store: intact, unchanged
    folders = (escapes.data, ROOT, ROOT / "shared", SITE_PACKAGES, Path("/tmp"))
    assert [p for folder in folders for p in folder.glob(f"{MARKER}*")] == []
    assert not list(escapes.data.rglob(f"*{MARKER}*"))
    folders = (ROOT / "shared", ROOT / "jobs", ROOT / "functions", ROOT / "farm")
    sources = [path for folder in folders for path in folder.rglob("*.py")]
    assert [str(path) for path in sources if MARKER.encode() in _bytes(path)] == []


def _bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def test_no_connection_reaches_a_listener_on_this_machine_or_beyond(escapes: Escapes) -> None:
    output = escapes.runs["escape_network"].output
    assert "network done" in output
    assert "CONNECTED" not in output
    assert escapes.listeners.contacts == []


def test_no_process_outlives_its_run(escapes: Escapes) -> None:
    assert "lingerers alive at the end of the run: 2" in escapes.runs["escape_linger"].output
    assert {
        "daemon",
        "session",
        "sleeper",
        "fork",
    } <= escapes.seen  # they did run, on this machine...
    assert escapes.left == []  # ...and none is left


def test_an_agent_that_never_answers_is_stopped_by_the_budget_with_everything_it_started(
    escapes: Escapes,
) -> None:
    sleeper = escapes.runs["escape_sleeper"]
    assert (
        sleeper.event.status == "failed"
        and f"time budget of {SLEEPER_BUDGET_S:g}s" in sleeper.event.error
    )
    assert escapes.left == []  # its marked child included


def test_a_fork_bomb_stops_at_the_process_cap(escapes: Escapes) -> None:
    output = escapes.runs["escape_forkbomb"].output
    forked = int(output.split("forked ", 1)[1].split(" ", 1)[0])
    assert 0 < forked < SandboxLimits().processes and "Resource temporarily unavailable" in output


def test_no_file_passes_the_size_limit_and_tmp_stops_at_its_size(escapes: Escapes) -> None:
    output = escapes.runs["escape_disk"].output
    for folder in ("/workspace", "/tmp"):
        line = output.split(f"single file in {folder}: ", 1)[1].split("\n", 1)[0]
        assert int(line.split(" ", 1)[0]) <= FILE_CAP and "stopped by OSError" in line, line
    tmp = int(output.split("tmp total: ", 1)[1].split(" ", 1)[0])
    assert tmp <= SandboxLimits().tmp_bytes and "No space left on device" in output


def test_the_workspace_cannot_fill_the_disk(escapes: Escapes) -> None:
    # Many files, each under RLIMIT_FSIZE: only a read-only workspace (or a cap) stops them.
    output = escapes.runs["escape_disk"].output
    total = int(output.split("workspace total: ", 1)[1].split(" ", 1)[0])
    assert total < DISK_ATTEMPT_MIB << 20


def test_a_300_mb_print_is_capped_and_the_stored_output_says_so(escapes: Escapes) -> None:
    printer = escapes.runs["escape_printer"]
    assert printer.event.status == "succeeded"
    assert len(printer.output.encode()) <= DEFAULT_OUTPUT_CAP + 200
    assert "[output cap of" in printer.output and "more bytes dropped]" in printer.output
