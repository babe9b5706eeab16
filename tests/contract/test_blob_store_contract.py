"""Contract of the BlobStore port, run against every adapter that can run here."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.adapters.gcp.storage import GcsBlobStore
from shared.adapters.local.blobs import DirectoryBlobStore
from shared.adapters.memory import MemoryBlobStore
from shared.errors import ConflictError, InvalidInputError, NotFoundError
from shared.ports import BlobStore

BUNDLE = "agents/u1/a1/bundle.zip"
Store = DirectoryBlobStore | GcsBlobStore | MemoryBlobStore  # all also expose content_type(key)


@pytest.fixture(
    params=[
        "directory",
        "directory_sidecar",
        "memory",
        pytest.param("gcs", marks=pytest.mark.emulator),
    ]
)
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "directory":
        yield DirectoryBlobStore(tmp_path / "blobs")
    elif request.param == "directory_sidecar":
        yield DirectoryBlobStore(tmp_path / "blobs", use_xattr=False)
    elif request.param == "memory":
        yield MemoryBlobStore()
    else:
        server = request.getfixturevalue("gcs_server")
        yield GcsBlobStore(server.create_bucket(), project=server.project)


def test_a_stored_object_reads_back_byte_for_byte(blobs: BlobStore) -> None:
    data = bytes(range(256)) * 100
    blobs.put(BUNDLE, data, content_type="application/zip")
    assert blobs.get(BUNDLE) == data
    assert blobs.exists(BUNDLE)


def test_an_empty_object_is_an_object(blobs: BlobStore) -> None:
    blobs.put("reports/empty.txt", b"")
    assert blobs.exists("reports/empty.txt")
    assert blobs.get("reports/empty.txt") == b""


def test_the_content_type_is_kept(blobs: Store) -> None:
    blobs.put(BUNDLE, b"PK", content_type="application/zip")
    blobs.put("reports/r.json", b"{}", content_type="application/json")
    blobs.put("reports/raw", b"x")
    assert blobs.content_type(BUNDLE) == "application/zip"
    assert blobs.content_type("reports/r.json") == "application/json"
    assert blobs.content_type("reports/raw") == "application/octet-stream"


def test_put_overwrites_and_updates_the_content_type(blobs: Store) -> None:
    blobs.put(BUNDLE, b"old", content_type="text/plain")
    blobs.put(BUNDLE, b"new", content_type="application/zip")
    assert blobs.get(BUNDLE) == b"new"
    assert blobs.content_type(BUNDLE) == "application/zip"


def test_getting_a_missing_object_raises_not_found(blobs: BlobStore) -> None:
    with pytest.raises(NotFoundError):
        blobs.get("agents/nobody/none/bundle.zip")
    assert not blobs.exists("agents/nobody/none/bundle.zip")


def test_the_content_type_of_a_missing_object_raises_not_found(blobs: Store) -> None:
    with pytest.raises(NotFoundError):
        blobs.content_type("missing")


def test_if_absent_writes_a_new_key(blobs: BlobStore) -> None:
    blobs.put(BUNDLE, b"first", if_absent=True)
    assert blobs.get(BUNDLE) == b"first"


def test_if_absent_refuses_an_existing_key_and_keeps_the_original(blobs: BlobStore) -> None:
    blobs.put(BUNDLE, b"first")
    with pytest.raises(ConflictError):
        blobs.put(BUNDLE, b"second", if_absent=True)
    assert blobs.get(BUNDLE) == b"first"


def test_concurrent_if_absent_writers_have_exactly_one_winner(blobs: BlobStore) -> None:
    outcomes: list[str] = []
    lock = threading.Lock()

    def write(n: int) -> None:
        try:
            blobs.put("runs/r1/result.json", f"writer {n}".encode(), if_absent=True)
            result = f"won {n}"
        except ConflictError:
            result = "conflict"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if o.startswith("won")]
    assert len(winners) == 1 and outcomes.count("conflict") == 7
    assert blobs.get("runs/r1/result.json") == f"writer {winners[0].split()[1]}".encode()


def test_delete_removes_the_object_and_ignores_missing_ones(blobs: BlobStore) -> None:
    blobs.put(BUNDLE, b"x")
    blobs.delete(BUNDLE)
    assert not blobs.exists(BUNDLE)
    with pytest.raises(NotFoundError):
        blobs.get(BUNDLE)
    blobs.delete(BUNDLE)
    blobs.delete("never/was/here")


def test_a_deleted_key_can_be_written_again_if_absent(blobs: BlobStore) -> None:
    blobs.put(BUNDLE, b"one")
    blobs.delete(BUNDLE)
    blobs.put(BUNDLE, b"two", if_absent=True)
    assert blobs.get(BUNDLE) == b"two"


def test_list_returns_keys_under_a_prefix_sorted(blobs: BlobStore) -> None:
    keys = [
        "agents/u2/a9/bundle.zip",
        "agents/u1/b1/bundle.zip",
        "agents/u1/a1/report.json",
        "agents/u1/a1/bundle.zip",
        "reports/x.html",
        "agents/u10/a1/bundle.zip",
    ]
    for key in keys:
        blobs.put(key, b"x")
    assert blobs.list() == sorted(keys)
    assert blobs.list("agents/u1/") == [
        "agents/u1/a1/bundle.zip",
        "agents/u1/a1/report.json",
        "agents/u1/b1/bundle.zip",
    ]
    assert blobs.list("agents/u1") == sorted(k for k in keys if k.startswith("agents/u1"))
    assert blobs.list("agents/u1/a") == ["agents/u1/a1/bundle.zip", "agents/u1/a1/report.json"]
    assert blobs.list("nothing/here/") == []


def test_list_forgets_deleted_objects(blobs: BlobStore) -> None:
    blobs.put("a/b/c", b"1")
    blobs.put("a/d", b"2")
    blobs.delete("a/b/c")
    assert blobs.list("a/") == ["a/d"]


@pytest.mark.parametrize(
    "bad_key",
    ["", "/etc/passwd", "../outside", "a/../../b", "a//b", "a/./b", "a/", "a\\b", "..", "a/b/.."],
)
def test_keys_that_could_escape_the_store_are_rejected(blobs: BlobStore, bad_key: str) -> None:
    with pytest.raises(InvalidInputError):
        blobs.put(bad_key, b"x")
    with pytest.raises(InvalidInputError):
        blobs.get(bad_key)
    with pytest.raises(InvalidInputError):
        blobs.exists(bad_key)
    with pytest.raises(InvalidInputError):
        blobs.delete(bad_key)


@pytest.mark.parametrize("bad_prefix", ["/", "/etc", "../", "a/../../"])
def test_prefixes_that_could_escape_the_store_are_rejected(
    blobs: BlobStore, bad_prefix: str
) -> None:
    with pytest.raises(InvalidInputError):
        blobs.list(bad_prefix)


def test_data_must_be_bytes(blobs: BlobStore) -> None:
    with pytest.raises(InvalidInputError):
        blobs.put("a", "text")  # type: ignore[arg-type]


# -- directory-specific guarantees --------------------------------------------------------------


def test_the_directory_store_never_writes_outside_its_root(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path / "root")
    for key in ("../escape", "a/../../escape", "/tmp/escape"):
        with pytest.raises(InvalidInputError):
            store.put(key, b"x")
    assert not (tmp_path / "escape").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["root"]


def test_the_directory_store_leaves_no_temp_files_or_empty_folders(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path / "root")
    store.put(BUNDLE, b"x")
    store.put(BUNDLE, b"y")
    with pytest.raises(ConflictError):
        store.put(BUNDLE, b"z", if_absent=True)
    assert [p.relative_to(store.root).as_posix() for p in store.root.rglob("*") if p.is_file()] == [
        BUNDLE
    ]
    store.delete(BUNDLE)
    assert list(store.root.iterdir()) == []


def test_a_reader_never_sees_a_partial_object(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path / "root")
    versions = [bytes([n]) * 2_000_000 for n in range(4)]
    store.put("big.bin", versions[0])
    stop = threading.Event()
    seen: set[bytes] = set()

    def read() -> None:
        while not stop.is_set():
            data = store.get("big.bin")
            seen.add(data[:1] + data[-1:] + len(data).to_bytes(4, "big"))

    reader = threading.Thread(target=read)
    reader.start()
    for n in range(20):
        store.put("big.bin", versions[n % 4])
    stop.set()
    reader.join()
    assert seen <= {v[:1] + v[-1:] + len(v).to_bytes(4, "big") for v in versions}


def _race_if_absent(root: str, n: int) -> str:
    try:
        DirectoryBlobStore(Path(root)).put("claims/slot", f"process {n}".encode(), if_absent=True)
        return f"won {n}"
    except ConflictError:
        return "conflict"


def test_if_absent_has_one_winner_across_processes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    DirectoryBlobStore(root)
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        outcomes = pool.starmap(_race_if_absent, [(str(root), n) for n in range(16)])
    winners = [o for o in outcomes if o.startswith("won")]
    assert len(winners) == 1 and outcomes.count("conflict") == 15
    winner = winners[0].split()[1]
    assert DirectoryBlobStore(root).get("claims/slot") == f"process {winner}".encode()


def test_a_key_cannot_run_through_an_existing_object(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path / "root")
    store.put("a/b", b"object")
    with pytest.raises(ConflictError):
        store.put("a/b/c", b"nested")
    store.put("x/y/z", b"deep")
    with pytest.raises(ConflictError):
        store.put("x/y", b"folder")
    assert store.get("a/b") == b"object" and store.get("x/y/z") == b"deep"


def test_keys_in_the_metadata_folder_are_reserved(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path / "root", use_xattr=False)
    with pytest.raises(InvalidInputError):
        store.put(".meta/a", b"x")
    store.put("a", b"x", content_type="text/plain")
    store.put("b/c", b"y", content_type="text/plain")
    assert store.list() == ["a", "b/c"]
    assert store.list(".meta/") == [] and store.list(".meta") == [] and store.list(".m") == []
    store.delete("b/c")
    assert sorted(p.name for p in (store.root / ".meta").iterdir()) == ["a"]
