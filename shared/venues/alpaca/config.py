"""Alpaca's configuration: API keys from the environment, endpoint URLs, symbol spellings.

Keys are read from the environment under the names Alpaca's own tools use (the Kubernetes
manifests and Secret Manager map secrets onto exactly these names; tests check they match) and
are kept out of `Settings`, so they never show up where settings are logged. Two key pairs
exist: the Trading API keys (market data, the platform's own paper account) and the Broker
API keys (agents' accounts: opening, funding, and trading each one on its own).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.errors import InvalidInputError, SettingsError

KEY_ID_ENV = "APCA_API_KEY_ID"
SECRET_KEY_ENV = "APCA_API_SECRET_KEY"
ENV_NAMES: tuple[str, ...] = (KEY_ID_ENV, SECRET_KEY_ENV)

# Broker API keys are not the trading keys: their own names, read only from the environment
# (a Secret Manager-backed env var on Cloud Functions, the runtime's Secret on GKE).
BROKER_KEY_ID_ENV = "APCA_BROKER_API_KEY_ID"
BROKER_SECRET_KEY_ENV = "APCA_BROKER_API_SECRET_KEY"
BROKER_URL_ENV = "APCA_BROKER_API_URL"  # optional; default: Alpaca's sandbox
BROKER_ENV_NAMES: tuple[str, ...] = (BROKER_KEY_ID_ENV, BROKER_SECRET_KEY_ENV)
BROKER_SANDBOX_URL = "https://broker-api.sandbox.alpaca.markets"
# The keys a runtime trading on Alpaca reads (its Secret's keys): it trades its session's own
# account through the Broker API, so it holds Broker API keys, not the Trading API's.
RUNTIME_ENV_NAMES: tuple[str, ...] = BROKER_ENV_NAMES

CRYPTO_QUOTES = ("USDT", "USDC", "USD", "BTC")


@dataclass(frozen=True)
class AlpacaCredentials:
    """An API key pair; `repr` never shows the secret."""

    key_id: str
    secret_key: str = field(repr=False)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, default: tuple[str, str] | None = None
    ) -> AlpacaCredentials:
        """Read the Trading API keys; SettingsError naming the missing variable unless `default` is given."""
        environ = os.environ if environ is None else environ
        key, secret = environ.get(KEY_ID_ENV, ""), environ.get(SECRET_KEY_ENV, "")
        if key and secret:
            return cls(key, secret)
        if default is not None:
            return cls(*default)
        missing = [name for name, value in ((KEY_ID_ENV, key), (SECRET_KEY_ENV, secret)) if not value]
        raise SettingsError(f"Alpaca keys missing: set {' and '.join(missing)}")


@dataclass(frozen=True)
class BrokerApiConfig:
    """The Broker API keys and base URL (None: Alpaca's sandbox)."""

    credentials: AlpacaCredentials
    url: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BrokerApiConfig:
        """Read the Broker API keys (and optional URL); SettingsError naming the variables."""
        environ = os.environ if environ is None else environ
        key, secret = environ.get(BROKER_KEY_ID_ENV, ""), environ.get(BROKER_SECRET_KEY_ENV, "")
        if not (key and secret):
            raise SettingsError(f"Broker API keys missing: set {BROKER_KEY_ID_ENV} and {BROKER_SECRET_KEY_ENV}")
        return cls(AlpacaCredentials(key, secret), environ.get(BROKER_URL_ENV) or None)

    @property
    def base_url(self) -> str:
        """The URL requests go to (the SSE events stream is read from it directly)."""
        return (self.url or BROKER_SANDBOX_URL).rstrip("/")


def canonical_symbol(symbol: str, asset_class: str | None = None) -> str:
    """The one form the platform uses for a symbol: `BTC/USD` for crypto, `AAPL` for stocks.

    Alpaca takes and returns `BTC/USD` on orders but reports positions as `BTCUSD`; the
    market-data topics and the agents' data names use the slash form. Without `asset_class`
    an unslashed symbol counts as crypto only when it ends in a crypto quote currency after a
    base of at least three letters (no listed US stock ticker looks like that).
    """
    text = symbol.strip().upper()
    if not text:
        raise InvalidInputError("symbol must not be empty")
    if "/" in text or asset_class not in (None, "crypto"):
        return text
    shortest = 2 if asset_class == "crypto" else 3
    for quote in CRYPTO_QUOTES:
        base = text[: -len(quote)]
        if text.endswith(quote) and len(base) >= shortest and base.isalpha():
            return f"{base}/{quote}"
    return text
