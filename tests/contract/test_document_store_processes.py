"""SqliteDocumentStore across OS processes: no lost update, and a watcher sees every change.

Workers are separate interpreters (multiprocessing "spawn"), each opening the same file, as the
local stack's functions, jobs and runtimes do.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path
from typing import Any

from shared.adapters.local.documents import SqliteDocumentStore
from shared.ports.documents import DocumentChange, Transaction

COLLECTION = "counters"
ROUNDS = 60


def _increment(txn: Transaction) -> None:
    current = txn.get(COLLECTION, "shared")
    assert current is not None
    time.sleep(0.0005)  # widen the read-to-commit window so the processes really collide
    txn.update(COLLECTION, "shared", {"n": current["n"] + 1})


def increment_worker(path: str, rounds: int, go: Barrier) -> None:
    """Increment the shared counter `rounds` times, each in its own transaction."""
    store = SqliteDocumentStore(Path(path))
    try:
        go.wait(timeout=60)  # both workers start together
        for _ in range(rounds):
            store.transaction(_increment, max_attempts=1000)
    finally:
        store.close()


def watch_worker(path: str, out: Any, ready: Event, stop: Event) -> None:
    """Forward every change of the counters collection to `out` until told to stop."""
    store = SqliteDocumentStore(Path(path))

    def forward(change: DocumentChange) -> None:
        out.put((change.change_id, change.kind, change.before, change.after))

    try:
        store.watch(COLLECTION, forward)
        ready.set()
        stop.wait(timeout=120)
    finally:
        store.close()


def test_two_processes_incrementing_one_counter_lose_nothing_and_a_third_sees_every_change(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "documents.sqlite3")
    ctx = mp.get_context("spawn")
    go, ready, stop = ctx.Barrier(3), ctx.Event(), ctx.Event()
    changes = ctx.Queue()
    watcher = ctx.Process(target=watch_worker, args=(path, changes, ready, stop), daemon=True)
    workers = [
        ctx.Process(target=increment_worker, args=(path, ROUNDS, go), daemon=True)
        for _ in range(2)
    ]
    try:
        watcher.start()
        for worker in workers:
            worker.start()
        assert ready.wait(timeout=60), "watcher process did not start"
        store = SqliteDocumentStore(Path(path))
        store.create(COLLECTION, "shared", {"n": 0})
        go.wait(timeout=60)
        for worker in workers:
            worker.join(timeout=120)
            assert worker.exitcode == 0
        assert store.get(COLLECTION, "shared") == {"n": 2 * ROUNDS}
        store.close()

        seen = []
        while len(seen) < 2 * ROUNDS + 1:
            try:
                seen.append(changes.get(timeout=10))
            except queue.Empty:
                break
    finally:
        stop.set()
        for process in (*workers, watcher):
            process.join(timeout=30)
            if process.is_alive():
                process.kill()

    assert len(seen) == 2 * ROUNDS + 1
    change_ids, kinds, befores, afters = zip(*seen, strict=True)
    assert kinds == ("created",) + ("updated",) * 2 * ROUNDS
    # Every committed value appears once, in commit order, each chained to the one before.
    assert [after["n"] for after in afters] == list(range(2 * ROUNDS + 1))
    assert list(befores[1:]) == list(afters[:-1])
    assert len(set(change_ids)) == len(change_ids)
