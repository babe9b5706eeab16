"""`python -m ingester`: run the market-data ingester until SIGTERM/SIGINT (then flush and exit 0)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from ingester.app import Ingester, IngesterOptions
from ingester.symbols import SymbolSource
from shared.app import Application
from shared.errors import FarmError
from shared.settings import Settings
from shared.venues.alpaca.config import AlpacaCredentials


async def main() -> int:
    """Wire the ports from settings and run the ingester."""
    settings = Settings.from_env()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with Application(settings) as platform:  # closes the stores once the ingester has flushed
        return await _ingest(platform)


async def _ingest(platform: Application) -> int:
    settings = platform.settings
    platform.warehouse.ensure_tables()
    # The replay server accepts any keys, so the local backend does not need real ones.
    default = ("replay", "replay") if settings.backend == "local" else None
    ingester = Ingester(
        IngesterOptions.from_settings(settings),
        bus=platform.messages,
        warehouse=platform.warehouse,
        credentials=AlpacaCredentials.from_env(default=default),
        symbols=SymbolSource(
            platform.documents, stocks=settings.ingester_symbols, crypto=settings.ingester_crypto_symbols
        ),
    )
    ingester.symbols.reload()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, ingester.stop)
    await ingester.run()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except FarmError as exc:
        print(f"ingester: {exc.message}", file=sys.stderr)
        sys.exit(2)
