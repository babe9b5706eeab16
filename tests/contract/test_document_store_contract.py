"""Contract of the documents port, run against every adapter that can run here.

`sqlite` always runs; `firestore` runs against the Firestore emulator (marked `emulator`, skipped
with the reason when gcloud or Java is missing). Each test works in its own fresh collection.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.errors import ConflictError, InvalidInputError, NotFoundError
from shared.ports.documents import DocumentChange, DocumentStore, Filter, Transaction


@pytest.fixture(params=["sqlite", "memory", pytest.param("firestore", marks=pytest.mark.emulator)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DocumentStore]:
    if request.param == "sqlite":
        from shared.adapters.local.documents import SqliteDocumentStore

        adapter: Any = SqliteDocumentStore(tmp_path / "documents.sqlite3")
    elif request.param == "memory":
        from shared.adapters.memory import MemoryDocumentStore

        adapter = MemoryDocumentStore()
    else:
        request.getfixturevalue("firestore_emulator")
        from shared.adapters.gcp.firestore import FirestoreDocumentStore
        from tests.fixtures.firestore_emulator import EMULATOR_PROJECT

        adapter = FirestoreDocumentStore(EMULATOR_PROJECT)
    yield adapter
    adapter.close()


@pytest.fixture
def coll() -> str:
    return f"contract_{uuid.uuid4().hex[:12]}"


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def ids(rows: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [doc_id for doc_id, _ in rows]


def increment(txn: Transaction, coll: str, doc_id: str = "counter") -> int:
    current = txn.get(coll, doc_id)
    assert current is not None
    txn.update(coll, doc_id, {"n": current["n"] + 1})
    return current["n"] + 1


# --- CRUD ------------------------------------------------------------------------------------


def test_a_created_document_reads_back_as_plain_json(store: DocumentStore, coll: str) -> None:
    doc = {"name": "alpha", "n": 3, "x": 1.5, "ok": True, "none": None,
           "tags": ["a", "b"], "meta": {"deep": {"k": "v"}}, "at": "2026-01-02T03:04:05+00:00"}
    store.create(coll, "a1", doc)
    assert store.get(coll, "a1") == doc


def test_get_returns_none_for_a_missing_document(store: DocumentStore, coll: str) -> None:
    assert store.get(coll, "missing") is None


def test_create_raises_conflict_when_the_document_exists(store: DocumentStore, coll: str) -> None:
    store.create(coll, "a1", {"v": 1})
    with pytest.raises(ConflictError):
        store.create(coll, "a1", {"v": 2})
    assert store.get(coll, "a1") == {"v": 1}


def test_set_creates_then_overwrites_the_whole_document(store: DocumentStore, coll: str) -> None:
    store.set(coll, "a1", {"v": 1, "old": True})
    store.set(coll, "a1", {"v": 2})
    assert store.get(coll, "a1") == {"v": 2}


def test_update_merges_top_level_fields(store: DocumentStore, coll: str) -> None:
    store.create(coll, "a1", {"v": 1, "keep": "me", "nested": {"a": 1, "b": 2}})
    store.update(coll, "a1", {"v": 2, "nested": {"a": 9}, "dotted.key": "literal"})
    assert store.get(coll, "a1") == {
        "v": 2, "keep": "me", "nested": {"a": 9}, "dotted.key": "literal"
    }


def test_update_of_a_missing_document_raises_not_found(store: DocumentStore, coll: str) -> None:
    with pytest.raises(NotFoundError):
        store.update(coll, "ghost", {"v": 1})
    assert store.get(coll, "ghost") is None


def test_delete_removes_a_document_and_ignores_a_missing_one(
    store: DocumentStore, coll: str
) -> None:
    store.create(coll, "a1", {"v": 1})
    store.delete(coll, "a1")
    store.delete(coll, "a1")
    assert store.get(coll, "a1") is None


@pytest.mark.parametrize("bad", [{"when": object()}, {"x": float("nan")}, {1: "int key"}, ["list"]])
def test_values_that_are_not_json_are_rejected(store: DocumentStore, coll: str, bad: Any) -> None:
    with pytest.raises(InvalidInputError):
        store.set(coll, "a1", bad)


@pytest.mark.parametrize("doc_id", ["", "a/b", "__reserved__"])
def test_unusable_document_ids_are_rejected(store: DocumentStore, coll: str, doc_id: str) -> None:
    with pytest.raises(InvalidInputError):
        store.set(coll, doc_id, {"v": 1})


# --- queries ---------------------------------------------------------------------------------

SEED: dict[str, dict[str, Any]] = {
    "a": {"n": 1, "s": "apple", "flag": True, "tags": ["x", "y"], "meta": {"rank": 3},
          "at": "2026-01-01T00:00:00+00:00", "pair": {"x": 1, "y": 2}},
    "b": {"n": 2.5, "s": "banana", "flag": False, "tags": ["y"], "meta": {"rank": 1},
          "at": "2026-01-03T00:00:00+00:00"},
    "c": {"n": 10, "s": "cherry", "flag": 1, "tags": [], "meta": {"rank": 2},
          "at": "2026-01-02T00:00:00+00:00"},
    "d": {"n": "10", "s": None, "tags": ["z", 1]},
    "e": {"s": "date", "meta": {}},
}


@pytest.fixture
def seeded(store: DocumentStore, coll: str) -> DocumentStore:
    for doc_id, doc in SEED.items():
        store.set(coll, doc_id, doc)
    return store


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([Filter("n", "==", 10)], ["c"]),
        ([Filter("n", "==", "10")], ["d"]),
        ([Filter("n", "==", 2.5)], ["b"]),
        ([Filter("flag", "==", True)], ["a"]),
        ([Filter("flag", "==", 1)], ["c"]),
        ([Filter("s", "==", None)], ["d"]),
        ([Filter("s", "!=", "apple")], ["b", "c", "e"]),
        ([Filter("n", "<", 10)], ["a", "b"]),
        ([Filter("n", "<=", 10)], ["a", "b", "c"]),
        ([Filter("n", ">", 1)], ["b", "c"]),
        ([Filter("n", ">=", 2.5)], ["b", "c"]),
        ([Filter("s", ">", "banana")], ["c", "e"]),
        ([Filter("at", ">=", "2026-01-02T00:00:00+00:00")], ["b", "c"]),
        ([Filter("n", "in", [1, "10"])], ["a", "d"]),
        ([Filter("tags", "array_contains", "y")], ["a", "b"]),
        ([Filter("tags", "array_contains", 1)], ["d"]),
        ([Filter("meta.rank", "==", 2)], ["c"]),
        ([Filter("meta", "==", {"rank": 3})], ["a"]),
        ([Filter("tags", "==", ["y"])], ["b"]),
        ([Filter("pair", "==", {"y": 2, "x": 1})], ["a"]),
        ([Filter("meta.rank", "<", 3)], ["b", "c"]),
        ([Filter("meta.rank", ">", 1), Filter("tags", "array_contains", "x")], ["a"]),
        ([Filter("n", ">", 0), Filter("n", "<", 5)], ["a", "b"]),
    ],
)
def test_every_filter_operator_matches_like_firestore(
    seeded: DocumentStore, coll: str, filters: list[Filter], expected: list[str]
) -> None:
    assert sorted(ids(seeded.query(coll, filters))) == expected


def test_query_without_order_returns_documents_by_id(seeded: DocumentStore, coll: str) -> None:
    rows = seeded.query(coll)
    assert ids(rows) == ["a", "b", "c", "d", "e"]
    assert dict(rows) == SEED


def test_ordering_skips_missing_fields_and_follows_direction(
    seeded: DocumentStore, coll: str
) -> None:
    assert ids(seeded.query(coll, order_by="meta.rank")) == ["b", "c", "a"]
    assert ids(seeded.query(coll, order_by="at", descending=True)) == ["b", "c", "a"]


def test_ordering_puts_numbers_before_strings(seeded: DocumentStore, coll: str) -> None:
    assert ids(seeded.query(coll, order_by="n")) == ["a", "b", "c", "d"]


def test_limit_and_offset_page_through_ordered_results(seeded: DocumentStore, coll: str) -> None:
    first = seeded.query(coll, order_by="at", limit=2)
    second = seeded.query(coll, order_by="at", limit=2, offset=2)
    assert ids(first) == ["a", "c"]
    assert ids(second) == ["b"]
    top = seeded.query(coll, [Filter("n", ">", 0)], order_by="n", descending=True, limit=1)
    assert ids(top) == ["c"]


def test_bad_filters_are_rejected_with_a_clear_error(seeded: DocumentStore, coll: str) -> None:
    with pytest.raises(InvalidInputError, match="unknown filter operator"):
        seeded.query(coll, [Filter("n", "~", 1)])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="'in' needs"):
        seeded.query(coll, [Filter("n", "in", 1)])
    with pytest.raises(InvalidInputError, match="offset"):
        seeded.query(coll, offset=-1)


# --- transactions ----------------------------------------------------------------------------


def test_a_transaction_reads_writes_and_returns_its_result(store: DocumentStore, coll: str) -> None:
    store.set(coll, "counter", {"n": 41})

    def bump(txn: Transaction) -> int:
        value = increment(txn, coll)
        txn.create(coll, "log", {"last": value})
        return value

    assert store.transaction(bump) == 42
    assert store.get(coll, "counter") == {"n": 42}
    assert store.get(coll, "log") == {"last": 42}


def test_an_exception_in_the_function_writes_nothing(store: DocumentStore, coll: str) -> None:
    store.set(coll, "counter", {"n": 1})

    def fail_after_writing(txn: Transaction) -> None:
        increment(txn, coll)
        txn.set(coll, "other", {"v": 1})
        txn.delete(coll, "counter")
        raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError, match="changed my mind"):
        store.transaction(fail_after_writing)
    assert store.get(coll, "counter") == {"n": 1}
    assert store.get(coll, "other") is None


def test_a_read_after_a_write_is_refused(store: DocumentStore, coll: str) -> None:
    store.set(coll, "counter", {"n": 1})

    def read_after_write(txn: Transaction) -> None:
        txn.set(coll, "other", {"v": 1})
        txn.get(coll, "counter")

    with pytest.raises(InvalidInputError, match="reads before"):
        store.transaction(read_after_write)
    assert store.get(coll, "other") is None


def test_a_transactional_create_of_an_existing_document_conflicts(
    store: DocumentStore, coll: str
) -> None:
    store.set(coll, "taken", {"v": 1})

    def create_both(txn: Transaction) -> None:
        txn.get(coll, "taken")
        txn.create(coll, "fresh", {"v": 2})
        txn.create(coll, "taken", {"v": 3})

    with pytest.raises(ConflictError):
        store.transaction(create_both)
    assert store.get(coll, "taken") == {"v": 1}
    assert store.get(coll, "fresh") is None


def test_a_transactional_update_of_a_missing_document_is_not_found(
    store: DocumentStore, coll: str
) -> None:
    with pytest.raises(NotFoundError):
        store.transaction(lambda txn: txn.update(coll, "ghost", {"v": 1}))
    assert store.get(coll, "ghost") is None


def test_a_conflicting_transaction_is_retried_and_both_increments_survive(
    store: DocumentStore, coll: str
) -> None:
    store.set(coll, "counter", {"n": 0})
    attempts = {"slow": 0, "rival": 0}
    rivals: list[threading.Thread] = []

    def rival_increment(txn: Transaction) -> int:
        attempts["rival"] += 1
        return increment(txn, coll)

    def slow_increment(txn: Transaction) -> int:
        attempts["slow"] += 1
        current = txn.get(coll, "counter")
        assert current is not None
        if not rivals:
            # A rival commits (or tries to) between our read and our commit.
            rival = threading.Thread(target=store.transaction, args=(rival_increment,),
                                     kwargs={"max_attempts": 10})
            rivals.append(rival)
            rival.start()
            rival.join(timeout=1.0)
        txn.update(coll, "counter", {"n": current["n"] + 1})
        return current["n"] + 1

    store.transaction(slow_increment, max_attempts=10)
    rivals[0].join(timeout=30)
    assert store.get(coll, "counter") == {"n": 2}
    # One transaction won outright; the other saw the conflict and ran again.
    assert attempts["slow"] + attempts["rival"] >= 3


def test_concurrent_threads_never_lose_an_increment(
    store: DocumentStore, coll: str, request: pytest.FixtureRequest
) -> None:
    # The emulator resolves lock contention with ~2 s waits, so it gets fewer rounds.
    rounds = 3 if "firestore" in request.node.callspec.id else 25
    store.set(coll, "counter", {"n": 0})
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def slow_increment(txn: Transaction) -> None:
        current = txn.get(coll, "counter")
        assert current is not None
        time.sleep(0.001)  # widen the read-to-commit window so the threads really collide
        txn.update(coll, "counter", {"n": current["n"] + 1})

    def worker() -> None:
        start.wait()
        try:
            for _ in range(rounds):
                store.transaction(slow_increment, max_attempts=100)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert store.get(coll, "counter") == {"n": 2 * rounds}


def test_a_transaction_that_always_conflicts_gives_up_with_conflict(
    tmp_path: Path, coll: str
) -> None:
    # SQLite only: on Firestore the interfering write would wait on the transaction's lock.
    from shared.adapters.local.documents import SqliteDocumentStore

    store = SqliteDocumentStore(tmp_path / "documents.sqlite3")
    try:
        store.set(coll, "counter", {"n": 0})
        attempts = []

        def always_interfered(txn: Transaction) -> None:
            attempts.append(1)
            current = txn.get(coll, "counter")
            assert current is not None
            store.set(coll, "counter", {"n": current["n"] + 100})
            txn.update(coll, "counter", {"n": current["n"] + 1})

        with pytest.raises(ConflictError, match="3 attempts"):
            store.transaction(always_interfered, max_attempts=3)
        assert len(attempts) == 3
        assert store.get(coll, "counter") == {"n": 300}
    finally:
        store.close()


# --- change feed -----------------------------------------------------------------------------


def test_the_change_feed_delivers_creates_updates_and_deletes_in_order(
    store: DocumentStore, coll: str
) -> None:
    store.set(coll, "before-watch", {"v": 0})
    got: list[DocumentChange] = []
    watch = store.watch(coll, got.append)
    try:
        store.create(coll, "a", {"v": 1})
        wait_until(lambda: len(got) >= 1)
        store.update(coll, "a", {"v": 2})
        wait_until(lambda: len(got) >= 2)
        store.delete(coll, "a")
        wait_until(lambda: len(got) >= 3)
    finally:
        watch.close()
    assert [(c.kind, c.doc_id, c.before, c.after) for c in got] == [
        ("created", "a", None, {"v": 1}),
        ("updated", "a", {"v": 1}, {"v": 2}),
        ("deleted", "a", {"v": 2}, None),
    ]
    assert {c.collection for c in got} == {coll}
    assert len({c.change_id for c in got}) == 3
    assert got[0].timestamp <= got[1].timestamp <= got[2].timestamp
    assert abs(got[0].timestamp - time.time()) < 60


def test_the_change_feed_sees_only_its_own_collection(store: DocumentStore, coll: str) -> None:
    got: list[DocumentChange] = []
    watch = store.watch(coll, got.append)
    try:
        store.set(coll + "_other", "x", {"v": 1})
        store.set(coll, "mine", {"v": 1})
        wait_until(lambda: len(got) >= 1)
        time.sleep(0.2)
    finally:
        watch.close()
    assert [c.doc_id for c in got] == ["mine"]


def test_a_raising_handler_gets_the_same_change_again(store: DocumentStore, coll: str) -> None:
    calls: list[DocumentChange] = []

    def flaky(change: DocumentChange) -> None:
        calls.append(change)
        if len(calls) == 1:
            raise RuntimeError("handler is down")

    watch = store.watch(coll, flaky)
    try:
        store.create(coll, "a", {"v": 1})
        wait_until(lambda: len(calls) >= 2)
        store.update(coll, "a", {"v": 2})
        wait_until(lambda: len(calls) >= 3)
    finally:
        watch.close()
    assert calls[0] == calls[1]
    assert [(c.kind, c.after) for c in calls] == [
        ("created", {"v": 1}), ("created", {"v": 1}), ("updated", {"v": 2})
    ]


def test_closing_a_watch_stops_delivery(store: DocumentStore, coll: str) -> None:
    got: list[DocumentChange] = []
    watch = store.watch(coll, got.append)
    store.set(coll, "a", {"v": 1})
    wait_until(lambda: len(got) == 1)
    watch.close()
    store.set(coll, "b", {"v": 1})
    time.sleep(0.5)
    assert [c.doc_id for c in got] == ["a"]


def test_many_quick_writes_each_reach_the_feed(store: DocumentStore, coll: str) -> None:
    got: list[DocumentChange] = []
    watch = store.watch(coll, got.append)
    try:
        for index in range(20):
            store.create(coll, f"d{index:02d}", {"i": index})
        wait_until(lambda: len(got) >= 20)
    finally:
        watch.close()
    assert sorted(c.doc_id for c in got) == [f"d{index:02d}" for index in range(20)]
    assert all(c.kind == "created" and c.after == {"i": int(c.doc_id[1:])} for c in got)


# --- adapter specifics -----------------------------------------------------------------------


def test_sqlite_prunes_change_rows_past_their_retention(tmp_path: Path, coll: str) -> None:
    import sqlite3

    from shared.adapters.local.documents import SqliteDocumentStore

    store = SqliteDocumentStore(
        tmp_path / "documents.sqlite3", change_retention_s=0.2, prune_every_s=0.0
    )
    try:
        store.set(coll, "a", {"v": 1})
        store.set(coll, "b", {"v": 1})
        time.sleep(0.3)
        store.set(coll, "c", {"v": 1})
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "documents.sqlite3") as conn:
        remaining = conn.execute("SELECT doc_id FROM changes").fetchall()
    assert remaining == [("c",)]


def test_sqlite_versions_never_repeat_after_delete_and_recreate(tmp_path: Path, coll: str) -> None:
    from shared.adapters.local.documents import SqliteDocumentStore

    store = SqliteDocumentStore(tmp_path / "documents.sqlite3")
    try:
        store.set(coll, "a", {"v": 1})
        seen: list[int] = []

        def read_then_write(txn: Transaction) -> None:
            current = txn.get(coll, "a")
            assert current is not None
            if not seen:
                # Someone deletes the document and re-creates it between our read and commit.
                store.delete(coll, "a")
                store.set(coll, "a", {"v": 10})
            seen.append(1)
            txn.update(coll, "a", {"v": current["v"] + 1})

        store.transaction(read_then_write)
        assert len(seen) == 2
        assert store.get(coll, "a") == {"v": 11}
    finally:
        store.close()


@pytest.mark.emulator
def test_firestore_returns_timestamps_written_by_other_clients_as_iso_strings(
    firestore_emulator: str, coll: str
) -> None:
    import datetime as dt

    from google.cloud import firestore

    from shared.adapters.gcp.firestore import FirestoreDocumentStore
    from tests.fixtures.firestore_emulator import EMULATOR_PROJECT

    raw = firestore.Client(project=EMULATOR_PROJECT)
    when = dt.datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=dt.UTC)
    raw.collection(coll).document("t").set(
        {"at": when, "blob": b"\x00\x01", "nested": {"ats": [when]}}
    )
    raw.close()
    store = FirestoreDocumentStore(EMULATOR_PROJECT)
    try:
        doc = store.get(coll, "t")
        rows = store.query(coll)
    finally:
        store.close()
    expected = {"at": "2026-03-04T05:06:07.123456+00:00", "blob": "AAE=",
                "nested": {"ats": ["2026-03-04T05:06:07.123456+00:00"]}}
    assert doc == expected
    assert rows == [("t", expected)]
