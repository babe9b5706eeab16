"""What the platform's market feed streams, so paper trading refuses a symbol that never trades.

The ingester subscribes to the platform universe: `FARM_INGESTER_SYMBOLS` when set, else the
`settings/universe` document, else the default universe, plus the crypto pairs (the document's
`crypto_symbols`, else `FARM_INGESTER_CRYPTO_SYMBOLS`), for the streams it runs. The same rule is
read here (the ingester's own copy is ingester.symbols.SymbolSource).
"""

from __future__ import annotations

from shared.market.universe import DEFAULT_SYMBOLS
from shared.ports.documents import DocumentStore
from shared.settings import Settings

UNIVERSE_COLLECTION, UNIVERSE_DOC = "settings", "universe"


def streamed_symbols(documents: DocumentStore, settings: Settings) -> frozenset[str]:
    """Every symbol whose bars reach the bus."""
    doc = documents.get(UNIVERSE_COLLECTION, UNIVERSE_DOC) or {}
    streams = set(settings.ingester_streams)
    stocks = settings.ingester_symbols or tuple(doc.get("symbols") or DEFAULT_SYMBOLS)
    crypto = tuple(doc.get("crypto_symbols") or settings.ingester_crypto_symbols)
    return frozenset((stocks if "stocks" in streams else ()) + (crypto if "crypto" in streams else ()))
