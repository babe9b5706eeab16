"""The one way tests build an Application: on in-memory fakes, or on the embedded engines.

`memory_app()` is for fast service tests (no files, no processes: pass an orchestrator or a
launcher when the code under test needs one). `embedded_app(data_dir)` is the local backend
under `data_dir`, exactly as `farm up` builds it, for the integration tests. Either takes
settings overrides as keywords (`embedded_app(d, backtest_budget_s=120)`) and parts to use
instead of the built ones (`embedded_app(d, warehouse=w)`); the test closes the application,
which closes what it built, never the parts it was given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.app import Application
from shared.app.application import COMPONENTS, PORTS
from shared.settings import Settings

PARTS = frozenset(PORTS + COMPONENTS)


def memory_app(**options: Any) -> Application:
    """An application on in-memory fakes; keywords are settings or parts."""
    settings, parts = _split(options)
    return Application.in_memory(Settings(backend="local", **settings), **parts)


def embedded_app(data_dir: Path, **options: Any) -> Application:
    """The local backend's application under `data_dir`; keywords are settings or parts."""
    settings, parts = _split(options)
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    return Application(Settings(backend="local", data_dir=Path(data_dir), **settings), **parts)


def _split(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    parts = {name: value for name, value in options.items() if name in PARTS}
    return {name: value for name, value in options.items() if name not in PARTS}, parts
