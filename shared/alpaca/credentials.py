"""Alpaca API keys: read from the environment under the names Alpaca's own tools use.

The Kubernetes manifest maps Secret keys onto exactly these names; tests check they match.
Keys are kept out of `Settings` so they never show up where settings are logged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.errors import SettingsError

KEY_ID_ENV = "APCA_API_KEY_ID"
SECRET_KEY_ENV = "APCA_API_SECRET_KEY"
ENV_NAMES: tuple[str, ...] = (KEY_ID_ENV, SECRET_KEY_ENV)


@dataclass(frozen=True)
class AlpacaCredentials:
    """An API key pair; `repr` never shows the secret."""

    key_id: str
    secret_key: str = field(repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, default: tuple[str, str] | None = None) -> AlpacaCredentials:
        """Read the keys; SettingsError naming the missing variable unless `default` is given."""
        environ = os.environ if environ is None else environ
        key, secret = environ.get(KEY_ID_ENV, ""), environ.get(SECRET_KEY_ENV, "")
        if key and secret:
            return cls(key, secret)
        if default is not None:
            return cls(*default)
        missing = [name for name, value in ((KEY_ID_ENV, key), (SECRET_KEY_ENV, secret)) if not value]
        raise SettingsError(f"Alpaca keys missing: set {' and '.join(missing)}")
