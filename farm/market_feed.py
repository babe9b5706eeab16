"""`farm up`'s market-data step: a replay server plus the ingester reading from it, in threads.

Offline, the live path (replay -> ingester -> `market-data` topic -> runtimes) runs exactly as it
would against Alpaca, only with the replay server's URL and source label `replay-*`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading

from ingester.app import Ingester, IngesterOptions
from ingester.symbols import SymbolSource
from shared.app import Application
from shared.venues.alpaca.config import AlpacaCredentials
from shared.venues.simulated.market_data import ReplayServer, ReplayServerThread
from shared.venues.simulated.timelines import SyntheticTimeline

log = logging.getLogger(__name__)


class MarketFeed:
    """The replay server and the ingester, started and stopped together."""

    def __init__(self, platform: Application, *, speed: float = 60.0, health_port: int = 0) -> None:
        self.replay = ReplayServerThread(ReplayServer(SyntheticTimeline(), speed=speed))
        self.platform, self.health_port = platform, health_port
        self.ingester: Ingester | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="ingester", daemon=True)
        self._started = threading.Event()

    def start(self) -> MarketFeed:
        """Start the replay server, then the ingester pointed at it."""
        self.replay.start()
        self._thread.start()
        self._started.wait(10)
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        settings = dataclasses.replace(
            self.platform.settings, alpaca_data_url=self.replay.url, ingester_source="replay"
        )
        options = IngesterOptions.from_settings(settings, health_port=self.health_port, health_host="127.0.0.1")
        self.ingester = Ingester(
            options,
            bus=self.platform.messages,
            warehouse=self.platform.warehouse,
            credentials=AlpacaCredentials("replay", "replay"),
            symbols=SymbolSource(self.platform.documents, stocks=settings.ingester_symbols,
                                 crypto=settings.ingester_crypto_symbols),
        )
        self._started.set()
        self._loop.run_until_complete(self.ingester.run())

    @property
    def health_url(self) -> str:
        """Where the ingester's /healthz, /readyz and /metrics answer."""
        port = self.ingester.health.port if self.ingester else self.health_port
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        """Stop the ingester (it flushes), then the replay server."""
        if self.ingester is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self.ingester.stop)
            self._thread.join(timeout=30)
        self.replay.stop()
