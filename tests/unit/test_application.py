"""The Application: every part lazy and built once, overridable, one close() in reverse order."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.local.documents import SqliteDocumentStore
from shared.adapters.memory import MemoryDocumentStore, MemoryParts
from shared.app import Application
from shared.app.gated_launcher import GatedLauncher
from shared.app.parts import GcpParts, LocalParts, parts_for
from shared.errors import SettingsError
from shared.ports.documents import DocumentChange
from shared.settings import Settings
from tests.app_factory import embedded_app, memory_app


class Part:
    """A stand-in part that says when it was closed."""

    def __init__(self, name: str, closed: list[str]) -> None:
        self.name, self._closed = name, closed

    def close(self) -> None:
        self._closed.append(self.name)


class RecordingParts(MemoryParts):
    """Memory parts whose orchestrator and job launcher are stand-ins, every build counted."""

    def __init__(self) -> None:
        self.built: list[str] = []
        self.closed: list[str] = []

    def documents(self, app: Application) -> Any:
        self.built.append("documents")
        time.sleep(0.01)  # widen the window in which racing threads would build twice
        return _closing(super().documents(app), self.closed)

    def orchestrator(self, app: Application) -> Any:
        self.built.append("orchestrator")
        return Part("orchestrator", self.closed)

    def job_launcher(self, app: Application) -> Any:
        self.built.append("job_launcher")
        return Part("job_launcher", self.closed)


def _closing(store: MemoryDocumentStore, closed: list[str]) -> MemoryDocumentStore:
    original = store.close

    def close() -> None:
        original()
        closed.append("documents")

    store.close = close  # type: ignore[method-assign]
    return store


def test_nothing_is_built_until_used_and_each_part_once_even_when_threads_race() -> None:
    parts = RecordingParts()
    app = Application(Settings(), parts=parts)
    assert parts.built == []
    seen: list[Any] = []
    threads = [threading.Thread(target=lambda: seen.append(app.documents)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert parts.built == ["documents"] and all(store is seen[0] for store in seen)
    app.close()


def test_close_closes_what_it_built_newest_first_and_a_component_after_the_stores_it_writes() -> None:
    parts = RecordingParts()
    app = Application(Settings(), parts=parts)
    app.job_launcher  # noqa: B018 - building the launcher builds the documents first
    app.orchestrator  # noqa: B018
    app.close()
    assert parts.built == ["documents", "job_launcher", "orchestrator"]
    assert parts.closed == ["orchestrator", "job_launcher", "documents"]
    app.close()  # a second close closes nothing again
    assert parts.closed == ["orchestrator", "job_launcher", "documents"]


def test_a_part_passed_in_is_used_and_left_open_for_its_owner() -> None:
    closed: list[str] = []
    given = Part("orchestrator", closed)
    with memory_app(orchestrator=given) as app:
        assert app.orchestrator is given
    assert closed == []


def test_a_closed_application_builds_nothing_more() -> None:
    app = memory_app()
    app.close()
    with pytest.raises(RuntimeError, match="closed"):
        app.documents  # noqa: B018


def test_while_closing_the_older_parts_stay_readable() -> None:
    app = memory_app()
    documents = app.documents
    read_during_close: list[Any] = []

    class Launcher(Part):
        def close(self) -> None:  # a local launcher marks its killed jobs failed in the documents
            read_during_close.append(app.documents)

    app._ready["job_launcher"] = launcher = Launcher("job_launcher", [])
    app._created.append(("job_launcher", launcher))
    app.close()
    assert read_during_close == [documents]


def test_launches_can_be_held_only_before_the_launcher_is_first_used() -> None:
    parts = RecordingParts()
    app = Application(Settings(), parts=parts)
    ready = threading.Event()
    app.hold_launches_until(ready, "the market")
    assert isinstance(app.job_launcher, GatedLauncher) and app.job_launcher.reason == "the market"
    with pytest.raises(RuntimeError, match="already in use"):
        app.hold_launches_until(ready, "again")
    app.close()


def test_an_in_memory_application_starts_no_process_unless_given_one() -> None:
    with memory_app() as app, pytest.raises(SettingsError, match="pass orchestrator="):
        app.orchestrator  # noqa: B018


def test_the_in_memory_parts_deliver_a_change_and_verify_a_token_they_minted() -> None:
    with memory_app() as app:
        changes: list[DocumentChange] = []
        watch = app.documents.watch("agents", changes.append)
        started = time.perf_counter()
        app.documents.create("agents", "a1", {"owner_uid": "alice"})
        while not changes:
            assert time.perf_counter() - started < 1.0, "the change never arrived"
            time.sleep(0.001)
        watch.close()
        principal = app.identity.verify(app.identity.mint("alice"))  # type: ignore[attr-defined]
    assert (changes[0].kind, principal.uid) == ("created", "alice")


def test_the_backend_is_chosen_in_one_place() -> None:
    assert isinstance(parts_for(Settings(backend="local")), LocalParts)
    assert isinstance(parts_for(Settings(backend="gcp", gcp_project="p")), GcpParts)


def test_the_embedded_application_is_the_local_backend_under_its_folder(tmp_path: Path) -> None:
    with embedded_app(tmp_path / "data", backtest_budget_s=60) as app:
        assert isinstance(app.documents, SqliteDocumentStore)
        app.documents.set("probe", "p1", {"ok": True})
        assert app.settings.backtest_budget_s == 60 and (tmp_path / "data" / "documents.sqlite3").exists()


def test_the_fixtures_give_an_in_memory_and_an_embedded_application(
    memory_application: Application, embedded_application: Application
) -> None:
    assert isinstance(memory_application.documents, MemoryDocumentStore)
    assert isinstance(embedded_application.documents, SqliteDocumentStore)
