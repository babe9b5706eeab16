from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.ports.warehouse import Warehouse
from tests.unit.market.fake_warehouse import make_warehouse


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    wh = make_warehouse(tmp_path)
    yield wh
    close = getattr(wh, "close", None)
    if close:
        close()
