from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.errors import InvalidInputError, TransientError
from shared.fmel import FmelRecorder, decision_id
from shared.fmel.recorder import replay_spills
from shared.ports.warehouse import Warehouse

T0 = datetime(2024, 1, 2, tzinfo=UTC)


def decision(point: int, session: str = "s1") -> dict[str, Any]:
    return {
        "decision_id": decision_id(session, point), "agent_id": "a1", "user_id": "u1", "session_id": session,
        "mode": "backtest", "decision_point": point, "bar_time": T0 + timedelta(days=point),
        "recorded_at": T0, "stage": "next", "action": "HOLD", "actions": [],
        "data_accessed": [{"symbol": "AAA", "data_hash": "h", "fields": ["close"],
                           "reads": [{"seq": 1, "field": "close", "index": 0}]}],
        "access_count": 1, "portfolio_value": 100.0, "cash": 100.0, "positions": [],
    }


class FailingWarehouse:
    """Fault injector: the first `failures` inserts raise TransientError, then it delegates."""

    def __init__(self, inner: Warehouse, failures: int) -> None:
        self.inner, self.failures, self.calls = inner, failures, 0

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        self.calls += 1
        if self.failures > 0:
            self.failures -= 1
            raise TransientError("warehouse unavailable")
        self.inner.insert_rows(table, rows)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return self.inner.query(sql, params)

    def ensure_tables(self) -> None:
        self.inner.ensure_tables()


def stored_points(warehouse: Warehouse) -> list[int]:
    return sorted(r["decision_point"] for r in warehouse.query("SELECT * FROM fmel.decisions"))


def test_a_full_batch_is_written_without_waiting_for_the_interval(warehouse, tmp_path: Path) -> None:
    recorder = FmelRecorder(warehouse, tmp_path / "spill", batch_size=10, flush_interval_s=60)
    for point in range(1, 11):
        recorder.add(decision(point))
    deadline = time.monotonic() + 5
    while recorder.stats()["written"] < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stored_points(warehouse) == list(range(1, 11))
    recorder.close()


def test_rows_are_written_when_the_interval_passes(warehouse, tmp_path: Path) -> None:
    with FmelRecorder(warehouse, tmp_path / "spill", batch_size=500, flush_interval_s=0.1) as recorder:
        recorder.add(decision(1))
        deadline = time.monotonic() + 5
        while recorder.stats()["written"] < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stored_points(warehouse) == [1]


def test_transient_failures_are_retried_and_nothing_is_spilled(warehouse, tmp_path: Path) -> None:
    flaky = FailingWarehouse(warehouse, failures=2)
    recorder = FmelRecorder(flaky, tmp_path / "spill", batch_size=500, flush_interval_s=60, retries=3, backoff_s=0.01)
    for point in range(1, 6):
        recorder.add(decision(point))
    recorder.close()
    assert stored_points(warehouse) == [1, 2, 3, 4, 5]
    assert recorder.stats() == {"recorded": 5, "written": 5, "spilled": 0, "replayed": 0, "rejected": 0, "pending": 0}


def test_a_warehouse_that_keeps_failing_spills_and_the_next_success_replays_oldest_first(
    warehouse, tmp_path: Path
) -> None:
    flaky = FailingWarehouse(warehouse, failures=4)  # two flushes of (1 try + 1 retry) fail
    recorder = FmelRecorder(flaky, tmp_path / "spill", batch_size=500, flush_interval_s=60, retries=1, backoff_s=0.0)
    recorder.add(decision(1))
    recorder.flush()
    recorder.add(decision(2))
    recorder.flush()
    assert len(recorder.spill_files()) == 2 and stored_points(warehouse) == []
    recorder.add(decision(3))
    recorder.close()
    assert stored_points(warehouse) == [1, 2, 3]
    assert recorder.spill_files() == []
    stats = recorder.stats()
    assert (stats["spilled"], stats["replayed"], stats["written"]) == (2, 2, 1)


def test_close_spills_what_it_cannot_write_so_nothing_is_lost(warehouse, tmp_path: Path) -> None:
    recorder = FmelRecorder(FailingWarehouse(warehouse, failures=10**6), tmp_path / "spill", retries=0)
    for point in range(1, 4):
        recorder.add(decision(point))
    recorder.close()
    assert recorder.stats()["spilled"] == 3
    with FmelRecorder(warehouse, tmp_path / "spill", flush_interval_s=0.05) as again:
        deadline = time.monotonic() + 5
        while again.stats()["replayed"] < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert stored_points(warehouse) == [1, 2, 3]


def test_rows_the_warehouse_rejects_are_kept_aside_and_never_replayed(warehouse, tmp_path: Path) -> None:
    recorder = FmelRecorder(warehouse, tmp_path / "spill", retries=0)
    recorder.add({**decision(1), "bogus_column": 1})
    recorder.close()
    assert recorder.stats()["rejected"] == 1 and recorder.spill_files() == []
    assert len(list((tmp_path / "spill").glob("*.rejected"))) == 1


def test_adding_after_close_is_an_error(warehouse, tmp_path: Path) -> None:
    recorder = FmelRecorder(warehouse, tmp_path / "spill")
    recorder.close()
    with pytest.raises(InvalidInputError, match="closed"):
        recorder.add(decision(1))


KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from tests.unit.fmel.test_fmel_recorder import decision
    from shared.errors import TransientError
    from shared.fmel import FmelRecorder

    class Down:
        def insert_rows(self, table, rows):
            raise TransientError("down")

    recorder = FmelRecorder(Down(), {spill!r}, batch_size=5, flush_interval_s=60, retries=0)
    for point in range(1, 11):
        recorder.add(decision(point))
    while recorder.stats()["spilled"] < 10:
        time.sleep(0.01)
    print("spilled", flush=True)
    time.sleep(60)  # killed here, before close()
    """
)


def test_batches_spilled_by_a_killed_process_are_replayed_by_the_next_recorder(warehouse, tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    root = str(Path(__file__).resolve().parents[3])
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER.format(root=root, spill=str(spill))],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "spilled"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert len(list(spill.glob("*.jsonl"))) == 2
    with FmelRecorder(warehouse, spill, flush_interval_s=0.05) as recorder:
        deadline = time.monotonic() + 5
        while recorder.stats()["replayed"] < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert stored_points(warehouse) == list(range(1, 11))
    assert stored_points(warehouse) and list(spill.glob("*")) == []


def test_a_batch_claimed_by_a_replayer_that_was_killed_is_replayed_by_the_next_recorder(
    warehouse, tmp_path: Path
) -> None:
    spill = tmp_path / "spill"
    recorder = FmelRecorder(FailingWarehouse(warehouse, failures=10**6), spill, retries=0)
    for point in (1, 2):
        recorder.add(decision(point))
    recorder.close()
    [batch] = recorder.spill_files()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True).stdout.strip()  # a pid that has exited
    batch.rename(batch.with_name(f"{batch.name}.replaying-{dead}"))  # as a killed replayer leaves it

    with FmelRecorder(warehouse, spill, flush_interval_s=0.05):
        pass

    assert stored_points(warehouse) == [1, 2]
    assert not list(spill.iterdir())


def test_replay_spills_writes_what_a_finished_job_left_in_its_spill_folder(warehouse, tmp_path: Path) -> None:
    root = tmp_path / "fmel-spill"
    left = FmelRecorder(FailingWarehouse(warehouse, failures=10**6), root / "backtest-run-1", retries=0)
    for point in (1, 2, 3):
        left.add(decision(point, session="run-1"))
    left.close()  # the job ends with its rows spilled, not written

    assert replay_spills(warehouse, root) == 3
    assert stored_points(warehouse) == [1, 2, 3]


class SlowWarehouse(FailingWarehouse):
    """Delegates, but each insert takes `delay_s`: a writer far slower than the run feeding it."""

    def __init__(self, inner: Warehouse, delay_s: float) -> None:
        super().__init__(inner, failures=0)
        self.delay_s = delay_s

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        time.sleep(self.delay_s)  # the slowness under test, not a wait for a condition
        super().insert_rows(table, rows)


def test_a_slow_warehouse_holds_the_producer_back_instead_of_growing_the_buffer(warehouse, tmp_path: Path) -> None:
    recorder = FmelRecorder(SlowWarehouse(warehouse, 0.02), tmp_path / "spill", batch_size=10,
                            flush_interval_s=60, max_buffered=30)
    most = 0
    for point in range(1, 201):
        recorder.add(decision(point))
        most = max(most, recorder.stats()["pending"])
    recorder.close()

    assert most <= 30
    assert stored_points(warehouse) == list(range(1, 201))
