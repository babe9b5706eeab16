"""The application a function process works with: built lazily, once, and injectable.

Nothing is built at import time, so deploying or importing a function module creates no
client; the `Application` itself builds each port on first use. The local host and tests
install their own with `use_platform` (and get the previous one back to restore it).
"""

from __future__ import annotations

import threading

from shared.app import Application
from shared.settings import Settings

_lock = threading.Lock()
_application: Application | None = None
_settings: Settings | None = None


def platform() -> Application:
    """Return the process's Application, built from the environment's settings on first use."""
    global _application  # noqa: PLW0603 - one application per process, built on first use
    if _application is None:
        with _lock:
            if _application is None:
                _application = Application(settings())
    return _application


def settings() -> Settings:
    """Return the settings in use, without building any adapter."""
    global _settings  # noqa: PLW0603 - read once per process, like the application
    if _application is not None:
        return _application.settings
    if _settings is None:
        with _lock:
            if _settings is None:
                _settings = Settings.from_env()
    return _settings


def use_platform(app: Application | None) -> Application | None:
    """Make `app` the process's Application (None: build lazily again); return the previous one.

    The caller that built `app` closes it; the one this process built lazily lives as long as it.
    """
    global _application, _settings
    with _lock:
        previous, _application, _settings = _application, app, None
    return previous
