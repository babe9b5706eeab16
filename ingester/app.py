"""The ingester process: stream clients, the flusher, the symbol reloader and the health server."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace

from ingester.health import HealthServer
from ingester.symbols import SymbolSource
from shared.errors import SettingsError, TransientError
from shared.ports.messages import MessageBus
from shared.ports.warehouse import Warehouse
from shared.schemas.topics import CRYPTO_DATA, MARKET_DATA, NEWS_DATA
from shared.services.ingest import IngestPipeline, PipelineConfig
from shared.settings import Settings
from shared.venues.alpaca.config import AlpacaCredentials
from shared.venues.alpaca.market_data import AlpacaStreamClient, StreamConfig
from shared.venues.alpaca.protocol import CRYPTO_PATH, NEWS_PATH, stock_path

log = logging.getLogger(__name__)
STREAM_NAMES: tuple[str, ...] = ("stocks", "crypto", "news")


@dataclass(frozen=True, kw_only=True)
class IngesterOptions:
    """Everything the ingester process needs besides its ports."""

    streams: tuple[StreamConfig, ...]
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    health_host: str = "0.0.0.0"
    health_port: int = 8081
    reload_s: float = 60.0
    flush_retry_cap_s: float = 5.0
    shutdown_flush_s: float = 20.0

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> IngesterOptions:
        """Build options from settings: one stream per entry of `ingester_streams`."""
        unknown = set(settings.ingester_streams) - set(STREAM_NAMES)
        if unknown:
            raise SettingsError(f"FARM_INGESTER_STREAMS: unknown stream(s) {sorted(unknown)}; known {STREAM_NAMES}")
        base = settings.alpaca_data_url.rstrip("/")
        paths = {"stocks": stock_path(settings.ingester_feed), "crypto": CRYPTO_PATH, "news": NEWS_PATH}
        labels = {"stocks": settings.ingester_feed, "crypto": "crypto", "news": "news"}
        streams = tuple(
            StreamConfig(
                name=name, kind=name, url=base + paths[name],  # type: ignore[arg-type]
                channels=settings.ingester_channels, source=f"{settings.ingester_source}-{labels[name]}",
                silence_s=float(settings.ingester_silence_s),
            )
            for name in settings.ingester_streams
        )
        options = cls(streams=streams, health_port=settings.ingester_port, reload_s=float(settings.ingester_reload_s))
        return replace(options, **overrides)  # type: ignore[arg-type]


class Ingester:
    """Run the streams into the pipeline until `stop()`; then flush everything and close."""

    def __init__(
        self,
        options: IngesterOptions,
        *,
        bus: MessageBus,
        warehouse: Warehouse | None,
        credentials: AlpacaCredentials,
        symbols: SymbolSource,
    ) -> None:
        self.options, self.symbols = options, symbols
        self.pipeline = IngestPipeline(bus, warehouse, config=options.pipeline)
        self.stats = self.pipeline.stats
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self.clients = [
            AlpacaStreamClient(
                config, credentials, self.pipeline, self._symbols_for(config.name), on_data=self._on_data
            )
            for config in options.streams
        ]
        self.health = HealthServer(self.ready, self.stats.render, host=options.health_host, port=options.health_port)
        for topic in (MARKET_DATA, CRYPTO_DATA, NEWS_DATA):
            bus.create_topic(topic)

    def _symbols_for(self, name: str):
        if name == "crypto":
            return lambda: self.symbols.crypto
        return lambda: self.symbols.stocks  # news follows the stock universe

    def _on_data(self) -> None:
        if self.pipeline.publish_due():
            self._wake.set()

    def ready(self) -> bool:
        """Ready when every stream is connected and authenticated."""
        return all(c.connected for c in self.clients)

    def stop(self) -> None:
        """Ask the ingester to stop (call from its event loop, e.g. a signal handler)."""
        self._stop.set()
        self._wake.set()

    async def run(self) -> None:
        """Serve until `stop()`; flush every accepted message before returning."""
        await self.health.start()
        log.info("ingester: health on :%d, streams %s", self.health.port, [c.config.url for c in self.clients])
        tasks = [asyncio.create_task(c.run(self._stop), name=f"stream-{c.config.name}") for c in self.clients]
        tasks.append(asyncio.create_task(self._reload_symbols(), name="symbols"))
        flusher = asyncio.create_task(self._flush_loop(), name="flusher")
        try:
            await self._stop.wait()
        finally:
            self._stop.set()
            for client in self.clients:
                await client.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await flusher
            await self._final_flush()
            await self.health.stop()
            log.info("ingester: stopped (%d published, %d archived)", sum(self.stats.messages_out.values()),
                     self.stats.archived)

    async def _flush_loop(self) -> None:
        delay, pipeline = 0.0, self.pipeline
        tick = min(pipeline.config.publish_max_delay_s, 0.05)
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._wake.wait(), tick if delay == 0 else delay)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                if pipeline.publish_due():
                    await asyncio.to_thread(pipeline.publish_pending)
                if pipeline.archive_due():
                    await asyncio.to_thread(pipeline.archive_pending)
                delay = 0.0
            except TransientError:
                delay = min(self.options.flush_retry_cap_s, max(0.05, delay * 2))  # already logged; retry

    async def _final_flush(self) -> None:
        deadline = asyncio.get_running_loop().time() + self.options.shutdown_flush_s
        while True:
            try:
                await asyncio.to_thread(self.pipeline.publish_pending)
                await asyncio.to_thread(self.pipeline.archive_pending)
                return
            except TransientError as exc:
                if asyncio.get_running_loop().time() > deadline:
                    log.error("ingester: shutdown flush gave up with %d messages unpublished: %s",
                              self.pipeline.backlog, exc)
                    return
                await asyncio.sleep(0.2)

    async def _reload_symbols(self) -> None:
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), self.options.reload_s)
                return
            except TimeoutError:
                pass
            if await asyncio.to_thread(self.symbols.reload):
                for client in self.clients:
                    await client.resubscribe()
