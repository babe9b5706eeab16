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


@pytest.fixture(params=["sqlite", pytest.param("firestore", marks=pytest.mark.emulator)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DocumentStore]:
    if request.param == "sqlite":
        from shared.adapters.local.documents import SqliteDocumentStore

        adapter: Any = SqliteDocumentStore(tmp_path / "documents.sqlite3")
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


def test_delete_removes_a_document_and_ignores_a_missing_one(store: DocumentStore, coll: str) -> None:
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
          "at": "2026-01-01T00:00:00+00:00"},
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
        ([Filter("meta.rank", "<", 3)], ["b", "c"]),
        ([Filter("meta.rank", ">", 1), Filter("tags", "array_contains", "x")], ["a"]),
        ([Filter("n", ">", 0), Filter("n", "<", 5)], ["a", "b"]),
    ],
    ids=lambda value: repr(value) if isinstance(value, list) and value and isinstance(value[0], str) else None,
)
def test_every_filter_operator_matches_like_firestore(
    seeded: DocumentStore, coll: str, filters: list[Filter], expected: list[str]
) -> None:
    assert sorted(ids(seeded.query(coll, filters))) == expected


def test_query_without_order_returns_documents_by_id(seeded: DocumentStore, coll: str) -> None:
    rows = seeded.query(coll)
    assert ids(rows) == ["a", "b", "c", "d", "e"]
    assert dict(rows) == SEED


def test_ordering_skips_missing_fields_and_follows_direction(seeded: DocumentStore, coll: str) -> None:
    assert ids(seeded.query(coll, order_by="meta.rank")) == ["b", "c", "a"]
    assert ids(seeded.query(coll, order_by="at", descending=True)) == ["b", "c", "a"]


def test_ordering_puts_numbers_before_strings(seeded: DocumentStore, coll: str) -> None:
    assert ids(seeded.query(coll, order_by="n")) == ["a", "b", "c", "d"]


def test_limit_and_offset_page_through_ordered_results(seeded: DocumentStore, coll: str) -> None:
    first = seeded.query(coll, order_by="at", limit=2)
    second = seeded.query(coll, order_by="at", limit=2, offset=2)
    assert ids(first) == ["a", "c"]
    assert ids(second) == ["b"]
    assert ids(seeded.query(coll, [Filter("n", ">", 0)], order_by="n", descending=True, limit=1)) == ["c"]


def test_bad_filters_are_rejected_with_a_clear_error(seeded: DocumentStore, coll: str) -> None:
    with pytest.raises(InvalidInputError, match="unknown filter operator"):
        seeded.query(coll, [Filter("n", "~", 1)])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="'in' needs"):
        seeded.query(coll, [Filter("n", "in", 1)])
    with pytest.raises(InvalidInputError, match="offset"):
        seeded.query(coll, offset=-1)
