from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.adapters.local.warehouse import DuckDbWarehouse
from tests.fixtures.common import make_warehouse


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[DuckDbWarehouse]:
    """A real DuckDB warehouse with every table created."""
    yield make_warehouse(tmp_path)
