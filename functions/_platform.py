"""The platform a function process works with: built lazily, once, and injectable.

Nothing is built at import time, so deploying or importing a function module creates no
client; the first request pays for `bootstrap`. The local host and tests inject their own.
"""

from __future__ import annotations

import threading

from shared.bootstrap import Platform, bootstrap
from shared.settings import Settings

_lock = threading.Lock()
_platform: Platform | None = None
_settings: Settings | None = None


def platform() -> Platform:
    """Return the process's Platform, bootstrapping it from the environment on first use."""
    global _platform
    if _platform is None:
        with _lock:
            if _platform is None:
                _platform = bootstrap(settings())
    return _platform


def settings() -> Settings:
    """Return the settings in use, without building any adapter."""
    global _settings
    if _platform is not None:
        return _platform.settings
    if _settings is None:
        with _lock:
            if _settings is None:
                _settings = Settings.from_env()
    return _settings


def use_platform(p: Platform | None) -> Platform | None:
    """Make `p` the process's Platform (None: build lazily again); return the previous one."""
    global _platform, _settings
    with _lock:
        previous, _platform, _settings = _platform, p, None
    return previous
