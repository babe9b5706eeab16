"""Session fixtures: real servers (Redis, Google Cloud emulators, fake GCS) started on demand,
and the application a test works with (`tests/app_factory.py` builds it, these close it).

Each server fixture module starts its server once per test session on a free port and skips
the tests that need it, with the reason, when the tool is not installed on this machine.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.app import Application
from tests.app_factory import embedded_app, memory_app

pytest_plugins = [
    "tests.fixtures.redis_server",
    "tests.fixtures.pubsub_emulator",
    "tests.fixtures.firestore_emulator",
    "tests.fixtures.gcs_server",
    "tests.fixtures.bigquery_emulator",
]


@pytest.fixture
def memory_application() -> Iterator[Application]:
    """An application on in-memory fakes (fast service tests), closed after the test."""
    with memory_app() as app:
        yield app


@pytest.fixture
def embedded_application(tmp_path: Path) -> Iterator[Application]:
    """The local backend's application under the test's own folder, closed after the test."""
    with embedded_app(tmp_path / "data") as app:
        yield app
