"""Platform settings: one frozen object read from `FARM_*` environment variables.

Every field `x_y` is read from `FARM_X_Y`. Unknown `FARM_*` variables are rejected so a typo
never silently falls back to a default, and a setting the chosen backend needs is named when
it is missing.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from shared.errors import SettingsError

Backend = Literal["local", "gcp"]
BROKERS: tuple[str, ...] = ("simulated", "alpaca")
GKE_ENDPOINTS: tuple[str, ...] = ("public", "private")
PREFIX = "FARM_"
# Read by the `farm` command line as an API client (never by the platform), so not settings.
CLIENT_VARIABLES = frozenset({"FARM_TOKEN"})


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the platform reads from its environment."""

    backend: Backend = "local"
    data_dir: Path = Path(".farm")
    gcp_project: str | None = None
    gcp_region: str = "us-central1"
    firebase_project: str | None = None
    bucket: str | None = None
    redis_url: str | None = None
    cors_origins: tuple[str, ...] = ("http://localhost:5000", "http://127.0.0.1:8080")
    port: int = 8080
    log_level: str = "INFO"
    # Ingester (SPEC §8). Alpaca keys are NOT settings: they come from APCA_API_KEY_ID /
    # APCA_API_SECRET_KEY (shared.venues.alpaca.config) so they never appear in logged settings.
    alpaca_data_url: str = "wss://stream.data.alpaca.markets"
    ingester_feed: str = "iex"  # stocks feed: iex or sip
    ingester_streams: tuple[str, ...] = ("stocks", "crypto", "news")
    ingester_channels: tuple[str, ...] = ("bars",)  # add updatedBars, trades, quotes if wanted
    ingester_symbols: tuple[str, ...] = ()  # empty: the platform universe (documents, then default)
    ingester_crypto_symbols: tuple[str, ...] = ("BTC/USD", "ETH/USD")
    ingester_source: str = "alpaca"  # label prefix of published data ("replay" offline)
    ingester_port: int = 8081  # /healthz, /readyz, /metrics
    ingester_silence_s: int = 30  # no message for this long: ping, then reconnect if no pong
    ingester_reload_s: int = 60  # how often the symbol list is re-read
    # Per-user rate-limit overrides, "class=count/window_s" (e.g. "requests=100/60"); see
    # shared.services.rate_limits for the classes and their defaults.
    rate_limits: tuple[str, ...] = ()
    # Paper leaderboard: a track record ranks once it spans this many days with this many trades.
    paper_min_days: int = 5
    paper_min_trades: int = 5
    # Backtest jobs (SPEC §7): wall-clock budget per run; the CPU-time limit follows it.
    backtest_budget_s: int = 1800
    # Venue (SPEC §9, shared.venues): "simulated" fills on the bus's bars, "alpaca" trades each
    # agent's own Broker API account (keys and URL from the environment, shared.venues.alpaca.config).
    # Unset: alpaca on gcp, simulated locally. Accounts and the runtime's broker both follow it.
    broker: str | None = None
    # GKE cluster of the agent runtimes, as seen from outside it (Cloud Functions). Set: the
    # orchestrator reads the cluster's endpoint and CA from the GKE API and authenticates with its
    # Google identity, as `gcloud container clusters get-credentials` does. Unset: in-cluster
    # config, else the local kubeconfig (a workstation).
    gke_cluster: str | None = None
    gke_location: str | None = None  # the cluster's region or zone; unset: gcp_region
    gke_api_url: str | None = None  # GKE API base URL override (e.g. a local fake)
    # "private": the control plane's private endpoint, reached from inside the VPC (the functions
    # through their connector, whose range terraform authorises); "public": its public endpoint.
    gke_endpoint: str = "public"

    def __post_init__(self) -> None:
        if self.backend not in get_args(Backend):
            raise SettingsError(f"FARM_BACKEND must be one of {get_args(Backend)}, got {self.backend!r}")
        if self.backend == "gcp":
            for name in ("gcp_project",):
                if not getattr(self, name):
                    raise SettingsError(f"{env_name(name)} is required when FARM_BACKEND=gcp")
        if self.gke_cluster and not self.gcp_project:
            raise SettingsError("FARM_GCP_PROJECT is required when FARM_GKE_CLUSTER is set")
        if self.gke_endpoint not in GKE_ENDPOINTS:
            raise SettingsError(f"FARM_GKE_ENDPOINT must be one of {GKE_ENDPOINTS}, got {self.gke_endpoint!r}")
        if self.broker not in (None, *BROKERS):
            raise SettingsError(f"FARM_BROKER must be one of {BROKERS}, got {self.broker!r}")
        if self.rate_limits:
            # Imported here: settings must stay importable without the service layer.
            from shared.services.rate_limits import parse_limits

            parse_limits(self.rate_limits)  # fail at start-up, naming FARM_RATE_LIMITS

    @property
    def runtime_broker(self) -> str:
        """The broker agent runtimes trade through: `broker`, else by backend."""
        return self.broker or ("alpaca" if self.backend == "gcp" else "simulated")

    @property
    def gke_cluster_location(self) -> str:
        """The GKE cluster's location: `gke_location`, else the platform's region."""
        return self.gke_location or self.gcp_region

    @property
    def blob_bucket(self) -> str:
        """The Cloud Storage bucket for bundles and reports (defaults to `<project>-farm`)."""
        if self.bucket:
            return self.bucket
        if not self.gcp_project:
            raise SettingsError("FARM_BUCKET or FARM_GCP_PROJECT is required for Cloud Storage")
        return f"{self.gcp_project}-farm"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from `environ` (default: the process environment)."""
        environ = os.environ if environ is None else environ
        fields = {f.name: f for f in dataclasses.fields(cls)}
        known = {env_name(name) for name in fields}
        unknown = sorted(k for k in environ if k.startswith(PREFIX) and k not in known | CLIENT_VARIABLES)
        if unknown:
            raise SettingsError(
                f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        values: dict[str, Any] = {
            name: _parse(name, environ[env_name(name)], f.type)
            for name, f in fields.items()
            if env_name(name) in environ
        }
        return cls(**values)


def env_name(field_name: str) -> str:
    """The environment variable that sets `field_name`."""
    return PREFIX + field_name.upper()


def _parse(name: str, raw: str, annotation: object) -> object:
    text = str(annotation)
    try:
        if "Path" in text:
            return Path(raw).expanduser()
        if "tuple" in text:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        if "int" in text:
            return int(raw)
        if "None" in text:
            return raw or None
        return raw
    except ValueError as exc:
        raise SettingsError(f"{env_name(name)}={raw!r} is not valid: {exc}") from exc
